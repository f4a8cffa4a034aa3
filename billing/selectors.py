"""Reads for billing: plans, a person's plan, subscription and usage, the admin overview."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q

from accounts.models import Role, User
from accounts.rbac import quota, role_rank
from billing import gateway
from billing.models import ENTITLED_STATUSES, Plan, Subscription, SubscriptionStatus
from billing.usage import api_requests_counted
from library import selectors as library_selectors

MANUAL = "manual"
STRIPE = "stripe"

# Statuses counted in monthly recurring revenue: paying, or being retried.
REVENUE_STATUSES = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


def billing_mode() -> str:
    """``"stripe"`` when a Stripe secret key is configured, ``"manual"`` otherwise."""
    return STRIPE if gateway.is_configured() else MANUAL


def plans_listed(*, public_only: bool = True) -> list[Plan]:
    """Plans from the smallest to the largest role."""
    plans = Plan.objects.all()
    if public_only:
        plans = plans.filter(is_public=True)
    return sorted(plans, key=lambda plan: role_rank(plan.code))


# What the larger plans add, in words for the pricing page.
FEATURES: tuple[tuple[str, str], ...] = (
    ("search:similar", "Find similar sounds"),
    ("search:advanced", "Advanced search"),
    ("audio:batch", "Batch uploads"),
    ("audio:share", "Share samples"),
    ("collection:share", "Share collections"),
    ("api:keys", "API keys"),
)


def plan_by_code(code: str) -> Plan | None:
    return Plan.objects.filter(code=code).first()


def plan_features(plan: Plan) -> list[tuple[str, bool]]:
    return [(label, permission in plan.permissions) for permission, label in FEATURES]


def plan_is_purchasable(plan: Plan) -> bool:
    """Whether a person can buy ``plan`` themselves, through Stripe Checkout."""
    return gateway.is_configured() and plan.is_paid and bool(plan.stripe_price_id)


def plan_for_user(*, user: User) -> Plan | None:
    """The plan matching the person's role (what is enforced); None for administrators."""
    if user.is_superuser or user.role == Role.ADMIN:
        return None
    return Plan.objects.filter(code=user.role).first()


def subscriptions_entitled(*, user: User) -> list[Subscription]:
    """The person's subscriptions that grant a plan, the largest plan first."""
    live = Subscription.objects.filter(user=user, status__in=ENTITLED_STATUSES).select_related(
        "plan"
    )
    return sorted(live, key=lambda sub: (role_rank(sub.plan.code), sub.created_at), reverse=True)


def subscription_current(*, user: User) -> Subscription | None:
    """The subscription that decides the person's plan, else their most recent one."""
    live = subscriptions_entitled(user=user)
    if live:
        return live[0]
    return Subscription.objects.filter(user=user).select_related("plan").first()


def stripe_customer_id(*, user: User) -> str:
    """The person's Stripe customer, from their most recent Stripe subscription."""
    return (
        Subscription.objects.filter(user=user)
        .exclude(stripe_customer_id="")
        .values_list("stripe_customer_id", flat=True)
        .first()
        or ""
    )


@dataclass(frozen=True)
class Meter:
    """One usage figure against its limit (None: unlimited)."""

    name: str
    label: str
    used: int
    limit: int | None
    unit: str = "count"  # or "bytes"

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def usage_for(*, user: User) -> list[Meter]:
    """What the person uses now, from the library's rows and the API request counts."""
    per_minute, today = api_requests_counted(user_id=user.pk)
    return [
        Meter(
            "uploads_today",
            "Uploads today",
            library_selectors.uploads_today(owner=user),
            quota(user, "uploads_per_day"),
        ),
        Meter(
            "storage_bytes",
            "Storage",
            library_selectors.storage_used(owner=user),
            quota(user, "storage_bytes"),
            unit="bytes",
        ),
        Meter(
            "collections",
            "Collections",
            library_selectors.collections_owned(user=user).count(),
            quota(user, "collections"),
        ),
        Meter(
            "api_requests_minute",
            "API requests this minute",
            per_minute,
            quota(user, "api_requests_per_minute"),
        ),
        Meter("api_requests_today", "API requests today", today, None),
    ]


@dataclass(frozen=True)
class PlanFigures:
    plan: Plan
    people: int  # accounts whose role is this plan
    stripe_subscriptions: int
    manual_subscriptions: int
    mrr_cents: int

    @property
    def mrr(self) -> Decimal:
        return Decimal(self.mrr_cents) / 100


def billing_overview() -> dict:
    """Subscribers per plan and monthly recurring revenue, in a fixed number of queries.

    MRR counts every active or past-due subscription at its plan's list price,
    manual ones included (they are billed outside Stripe at the same price).
    """
    plans = plans_listed(public_only=False)
    people = dict(User.objects.values_list("role").annotate(n=Count("id")).order_by())
    revenue = Q(subscriptions__status__in=REVENUE_STATUSES)
    counts = {
        row["id"]: row
        for row in Plan.objects.values("id").annotate(
            stripe=Count(
                "subscriptions", filter=revenue & ~Q(subscriptions__stripe_subscription_id="")
            ),
            manual=Count(
                "subscriptions", filter=revenue & Q(subscriptions__stripe_subscription_id="")
            ),
        )
    }
    rows = []
    for plan in plans:
        paying = counts[plan.pk]["stripe"] + counts[plan.pk]["manual"]
        rows.append(
            PlanFigures(
                plan=plan,
                people=people.get(plan.code, 0),
                stripe_subscriptions=counts[plan.pk]["stripe"],
                manual_subscriptions=counts[plan.pk]["manual"],
                mrr_cents=paying * plan.price_cents,
            )
        )
    statuses = dict(Subscription.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "plans": rows,
        "mrr_cents": sum(row.mrr_cents for row in rows),
        "mrr": Decimal(sum(row.mrr_cents for row in rows)) / 100,
        "currency": plans[0].currency if plans else "usd",
        "past_due": statuses.get(SubscriptionStatus.PAST_DUE, 0),
        "ending": Subscription.objects.filter(
            status__in=ENTITLED_STATUSES, cancel_at_period_end=True
        ).count(),
        "administrators": people.get(Role.ADMIN, 0),
        "mode": billing_mode(),
    }
