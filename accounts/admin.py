"""Admin for accounts: users (role, access and password changes audited), API keys (revoke,
never delete), the audit log."""

from allauth.account.models import EmailAddress
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count

from accounts import services
from accounts.audit import audit_log_record
from accounts.models import ApiKey, AuditLog, Role, User
from accounts.services import ACCESS_FLAGS

# allauth's "Email addresses" would make a second "Accounts" block on the admin's index:
# they are shown on each user's page instead.
if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)


class EmailAddressInline(admin.TabularInline):
    model = EmailAddress
    extra = 0
    fields = ("email", "verified", "primary")


def _role_action(role: str, label: str):
    def set_role(modeladmin, request, queryset) -> None:
        changed = 0
        for user in queryset:
            if user.role != role:
                services.user_role_set(user=user, role=role, actor=request.user, request=request)
                changed += 1
        modeladmin.message_user(request, f"{changed} user(s) moved to {label}.", messages.SUCCESS)

    set_role.__name__ = f"set_role_{role}"
    return admin.action(description=f"Set the role of the selected users to {label}")(set_role)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = (
        "email",
        "display_name",
        "role",
        "is_active",
        "api_key_count",
        "date_joined",
    )
    inlines = (EmailAddressInline,)
    actions = tuple(_role_action(value, label) for value, label in Role.choices)
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("email", "display_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "role")}),
        ("Access", {"fields": ("is_active", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_api_keys=Count("api_keys"))

    @admin.display(description="API keys", ordering="_api_keys")
    def api_key_count(self, obj: User) -> int:
        return obj._api_keys

    def save_model(self, request, obj: User, form, change) -> None:
        # Audited fields go back to their stored values for the plain save, then
        # through the services that record who changed them.
        new_role = obj.role
        access = {}
        if change:
            access = {
                flag: getattr(obj, flag) for flag in ACCESS_FLAGS if flag in form.changed_data
            }
            for flag in access:
                setattr(obj, flag, form.initial.get(flag, getattr(obj, flag)))
            if "role" in form.changed_data:
                obj.role = form.initial.get("role", obj.role)
        super().save_model(request, obj, form, change)
        if change and "role" in form.changed_data:
            services.user_role_set(user=obj, role=new_role, actor=request.user, request=request)
        if access:
            services.user_access_set(user=obj, actor=request.user, request=request, **access)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        # Django's view redirects only once the new password is saved.
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, unquote(id))
            audit_log_record(
                action="password.set_by_admin", actor=request.user, target=user, request=request
            )
        return response

    def delete_model(self, request, obj: User) -> None:
        services.user_delete(user=obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            services.user_delete(user=user, actor=request.user, request=request)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "prefix",
        "owner",
        "is_active",
        "last_used_at",
        "expires_at",
        "created_at",
    )
    list_filter = ("revoked_at", "created_at")
    search_fields = ("name", "prefix", "owner__email")
    list_select_related = ("owner",)
    # The hash is not shown: it is no secret, but it helps nobody either.
    fields = (
        "owner",
        "name",
        "prefix",
        "scopes",
        "allowed_cidrs",
        "rate_limit_per_minute",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "created_at",
    )
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False  # a key's secret is shown to its owner when they create it, nowhere else

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: a revoked key stays listed, with its audit trail

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(boolean=True)
    def is_active(self, obj: ApiKey) -> bool:
        return obj.is_active

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(key=key, actor=request.user, request=request)
        self.message_user(request, "Revoked.", messages.SUCCESS)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor_email", "target_type", "target_id", "ip_address")
    list_filter = ("action", "target_type", "created_at")
    search_fields = ("actor_email", "action", "target_id", "ip_address")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
