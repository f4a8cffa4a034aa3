"""Users: email login, a display name and a role on the plan ladder."""

from __future__ import annotations

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    """The ladder free < pro < studio < enterprise < admin, in that order."""

    FREE = "free", "Free"
    PRO = "pro", "Pro"
    STUDIO = "studio", "Studio"
    ENTERPRISE = "enterprise", "Enterprise"
    ADMIN = "admin", "Admin"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username: str) -> User:
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).strip(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(role=Role.ADMIN, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", max_length=254, unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.FREE)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can sign in to the admin. Always on for the admin role."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="An account with this email address already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        # The admin role is what grants the Django admin; the flag follows it.
        if self.role == Role.ADMIN:
            self.is_staff = True
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@")[0]


class ApiKey(models.Model):
    """A key for scripts and integrations: ``Authorization: Api-Key sm_live_...``.

    Only the SHA-256 of the secret is stored; the full key is shown once, when
    it is created. ``prefix`` (the first characters) lets people tell keys apart.
    """

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list, help_text="Permission names; a subset of the owner's.")
    allowed_cidrs = models.JSONField(
        default=list, blank=True, help_text="Networks the key may be used from; empty for any."
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Lower than the owner's role limit; empty for the role's."
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("the audit log is append-only")

    def delete(self):
        raise TypeError("the audit log is append-only")


class AuditLog(models.Model):
    """An append-only record of security-relevant events."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.EmailField(blank=True, help_text="Kept when the account is deleted.")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("target_type", "target_id"))]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor_email or '-'}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("the audit log is append-only")


class RateLimitOverride(models.Model):
    """An administrator's override of one account's API requests per minute."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="rate_limit_override")
    api_requests_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty means unlimited."
    )
    reason = models.CharField(max_length=300, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        limit = self.api_requests_per_minute or "unlimited"
        return f"{self.user} → {limit}/min"

    @property
    def is_active(self) -> bool:
        return self.expires_at is None or self.expires_at > timezone.now()
