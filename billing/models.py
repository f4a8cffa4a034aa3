"""Plans, subscriptions and the Stripe events already applied.

A plan's code is a role (free, pro, studio, enterprise): subscribing to a plan
puts its owner in that role, and the role's row of ``accounts.rbac.ROLE_QUOTAS``
is what the plan allows. Plans hold only what billing needs (name, price,
Stripe price); the quotas are read from that one table, never copied.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.models import Role
from accounts.rbac import ROLE_PERMISSIONS, ROLE_QUOTAS, Quotas


class PlanCode(models.TextChoices):
    """The roles a person can subscribe to; the admin role is never sold."""

    FREE = Role.FREE.value, Role.FREE.label
    PRO = Role.PRO.value, Role.PRO.label
    STUDIO = Role.STUDIO.value, Role.STUDIO.label
    ENTERPRISE = Role.ENTERPRISE.value, Role.ENTERPRISE.label


class Plan(models.Model):
    code = models.CharField(max_length=16, choices=PlanCode.choices, unique=True)
    name = models.CharField(max_length=50)
    description = models.CharField(max_length=200, blank=True)
    price_cents = models.PositiveIntegerField(
        "monthly price", default=0, help_text="In the currency's smallest unit (cents)."
    )
    currency = models.CharField(max_length=3, default="usd")
    stripe_price_id = models.CharField(
        "Stripe price id",
        max_length=100,
        blank=True,
        help_text="A recurring monthly price (price_...). Empty: not sold through Stripe.",
    )
    is_public = models.BooleanField(default=True, help_text="Shown on the pricing page.")

    class Meta:
        ordering = ("price_cents", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("stripe_price_id",),
                condition=~Q(stripe_price_id=""),
                name="billing_plan_unique_stripe_price",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def quotas(self) -> Quotas:
        """What this plan allows: the role's row of the quota table."""
        return ROLE_QUOTAS[self.code]

    @property
    def permissions(self) -> frozenset[str]:
        return ROLE_PERMISSIONS[self.code]

    @property
    def price(self) -> float:
        return self.price_cents / 100

    @property
    def is_paid(self) -> bool:
        return self.price_cents > 0


class SubscriptionStatus(models.TextChoices):
    """Stripe's subscription statuses; manual subscriptions use active and canceled."""

    ACTIVE = "active", "Active"
    TRIALING = "trialing", "Trialing"
    PAST_DUE = "past_due", "Past due"
    UNPAID = "unpaid", "Unpaid"
    INCOMPLETE = "incomplete", "Incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
    PAUSED = "paused", "Paused"
    CANCELED = "canceled", "Canceled"


# A subscription in one of these gives its plan. Past due keeps it while Stripe
# retries the payment; Stripe then moves the subscription to unpaid or canceled.
ENTITLED_STATUSES = frozenset(
    {SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE}
)
# Stripe never brings a subscription back from these.
TERMINAL_STATUSES = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})


class Subscription(models.Model):
    """One subscription of one person to one plan.

    Rows with a ``stripe_subscription_id`` mirror a Stripe subscription and are
    changed only by Stripe's events; rows without one were assigned by an
    administrator (manual billing), at most one per person.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    stripe_customer_id = models.CharField("Stripe customer id", max_length=100, blank=True)
    stripe_subscription_id = models.CharField(
        "Stripe subscription id", max_length=100, blank=True, editable=False
    )
    current_period_end = models.DateTimeField(
        null=True, blank=True, help_text="Manual plans end here when set; empty for no end."
    )
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True, editable=False)
    stripe_event_created = models.BigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Stripe's time (Unix seconds) of the newest event applied; older ones are not.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("stripe_subscription_id",),
                condition=~Q(stripe_subscription_id=""),
                name="billing_subscription_unique_stripe_id",
            ),
            models.UniqueConstraint(
                fields=("user",),
                condition=Q(stripe_subscription_id=""),
                name="billing_subscription_one_manual_per_user",
                violation_error_message="This person already has a manually assigned plan; "
                "change that one.",
            ),
        ]
        indexes = [
            models.Index(fields=("user", "status")),
            models.Index(fields=("stripe_customer_id",)),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.plan} ({self.get_status_display()})"

    @property
    def is_manual(self) -> bool:
        return not self.stripe_subscription_id

    @property
    def is_entitled(self) -> bool:
        return self.status in ENTITLED_STATUSES

    @property
    def is_cancellable(self) -> bool:
        """A Stripe subscription still in force and not already ending with its period."""
        return not self.is_manual and self.is_entitled and not self.cancel_at_period_end


class WebhookEvent(models.Model):
    """A Stripe event already received: each event id is applied once."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        STALE = "stale", "Older than what is stored; not applied"
        UNMATCHED = "unmatched", "No matching person or plan"
        IGNORED = "ignored", "Not a type billing acts on"

    stripe_event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(help_text="When Stripe created the event.")
    livemode = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-received_at", "-id")
        verbose_name = "Stripe event"

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.type}"
