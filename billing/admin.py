"""Admin for billing: plans (with a revenue overview), subscriptions, Stripe events.

Subscriptions assigned here are manual: the person's role follows at once.
Stripe's subscriptions are shown read-only; they change through Stripe.
"""

from __future__ import annotations

from dataclasses import asdict

from django.contrib import admin, messages
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join

from billing import selectors, services
from billing.forms import ManualSubscriptionForm
from billing.models import Plan, Subscription, SubscriptionStatus, WebhookEvent

QUOTA_LABELS = {
    "uploads_per_day": "Uploads a day",
    "storage_bytes": "Storage",
    "api_requests_per_minute": "API requests a minute",
    "collections": "Collections",
    "batch_size": "Files per batch",
}


def _quota_text(name: str, value: int | None) -> str:
    if value is None:
        return "unlimited"
    return filesizeformat(value) if name == "storage_bytes" else str(value)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "monthly_price", "stripe_price_id", "is_public")
    fields = (
        "code",
        "name",
        "description",
        "price_cents",
        "currency",
        "stripe_price_id",
        "is_public",
        "quotas",
    )
    readonly_fields = ("code", "quotas")
    change_list_template = "admin/billing/plan/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False  # one plan per role, created by the migrations

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Monthly price", ordering="price_cents")
    def monthly_price(self, plan: Plan) -> str:
        return f"{plan.currency.upper()} {plan.price:.2f}" if plan.is_paid else "Free"

    @admin.display(description="Quotas (from the role table, accounts/rbac.py)")
    def quotas(self, plan: Plan) -> str:
        rows = [
            (QUOTA_LABELS[name], _quota_text(name, value))
            for name, value in asdict(plan.quotas).items()
        ]
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", rows))

    def get_urls(self):
        overview = self.admin_site.admin_view(self.overview_view)
        return [path("overview/", overview, name="billing_overview"), *super().get_urls()]

    def overview_view(self, request):
        """Subscribers per plan and monthly recurring revenue."""
        context = {
            **self.admin_site.each_context(request),
            "title": "Billing overview",
            "opts": self.model._meta,
            "overview": selectors.billing_overview(),
        }
        return TemplateResponse(request, "admin/billing/overview.html", context)


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return (("stripe", "Stripe"), ("manual", "Assigned by an administrator"))

    def queryset(self, request, queryset):
        if self.value() == "stripe":
            return queryset.exclude(stripe_subscription_id="")
        if self.value() == "manual":
            return queryset.filter(stripe_subscription_id="")
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "plan",
        "status",
        "source",
        "current_period_end",
        "cancel_at_period_end",
        "updated_at",
    )
    list_filter = ("plan", "status", SourceFilter, "cancel_at_period_end")
    search_fields = ("user__email", "stripe_customer_id", "stripe_subscription_id")
    list_select_related = ("user", "plan")
    autocomplete_fields = ("user",)
    form = ManualSubscriptionForm
    actions = ("end_now",)
    stripe_fields = (
        "stripe_customer_id",
        "stripe_subscription_id",
        "canceled_at",
        "stripe_event_created",
        "created_at",
        "updated_at",
    )
    fields = (
        "user",
        "plan",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        *stripe_fields,
    )

    @admin.display(description="Source")
    def source(self, subscription: Subscription) -> str:
        return "manual" if subscription.is_manual else "Stripe"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_manual:
            return self.fields
        return ("cancel_at_period_end", *self.stripe_fields)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            # A manual plan is either running or ended.
            kwargs["choices"] = [
                (SubscriptionStatus.ACTIVE, SubscriptionStatus.ACTIVE.label),
                (SubscriptionStatus.CANCELED, SubscriptionStatus.CANCELED.label),
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_manual)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_manual)

    def save_model(self, request, obj: Subscription, form, change) -> None:
        services.subscription_manual_save(subscription=obj, actor=request.user, request=request)

    def delete_model(self, request, obj: Subscription) -> None:
        services.subscription_manual_delete(subscription=obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset) -> None:
        for subscription in queryset.filter(stripe_subscription_id="").select_related("user"):
            services.subscription_manual_delete(
                subscription=subscription, actor=request.user, request=request
            )

    @admin.action(description="End selected manual plans now")
    def end_now(self, request, queryset) -> None:
        ended = 0
        manual = queryset.filter(stripe_subscription_id="").exclude(
            status=SubscriptionStatus.CANCELED
        )
        for subscription in manual.select_related("user", "plan"):
            subscription.status = SubscriptionStatus.CANCELED
            services.subscription_manual_save(
                subscription=subscription, actor=request.user, request=request
            )
            ended += 1
        skipped = queryset.filter(~Q(stripe_subscription_id="")).count()
        messages.success(request, f"Ended {ended} manual plan(s).")
        if skipped:
            messages.warning(
                request, f"{skipped} Stripe subscription(s) skipped: end those in Stripe."
            )


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("stripe_event_id", "type", "object_id", "outcome", "created", "received_at")
    list_filter = ("type", "outcome", "livemode")
    search_fields = ("stripe_event_id", "object_id")
    date_hierarchy = "received_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
