"""Writes for billing: Stripe checkout and events, manual plans, and the role that follows.

A person's role is the plan of their largest entitled subscription (free when
there is none); :func:`user_role_sync` sets it after every subscription change.
Administrators keep their role whatever they subscribe to. A smaller role
never deletes anything: the library checks quotas when new work is created,
so data over the new limits stays and only new uploads or collections are
refused.

Stripe events are applied once each (:class:`~billing.models.WebhookEvent`)
and only when they are at least as new as what a subscription already shows,
so replays and late deliveries never roll a subscription back.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import audit_log_record
from accounts.models import Role, User
from accounts.rbac import role_rank
from accounts.services import user_role_set
from billing import gateway, selectors
from billing.errors import ManualBilling, NoBillingAccount, PlanUnavailable, SubscriptionExists
from billing.models import (
    ENTITLED_STATUSES,
    TERMINAL_STATUSES,
    Plan,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

STRIPE_ACTOR = "stripe"
Outcome = WebhookEvent.Outcome

# --------------------------------------------------------------------------- roles


def user_role_sync(
    *, user: User, actor: User | None = None, request: HttpRequest | None = None
) -> User:
    """Put ``user`` in the role of their largest entitled plan, or free without one."""
    user = User.objects.get(pk=user.pk)
    if user.is_superuser or user.role == Role.ADMIN:
        return user
    live = selectors.subscriptions_entitled(user=user)
    role = live[0].plan.code if live else Role.FREE
    return user_role_set(user=user, role=role, actor=actor, request=request)


def _audit_change(
    subscription: Subscription,
    previous: tuple[str, str] | None,
    *,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> None:
    current = (subscription.plan.code, subscription.status)
    if previous == current:
        return
    audit_log_record(
        action="billing.subscription_changed",
        actor=actor,
        actor_email=STRIPE_ACTOR if actor is None and not subscription.is_manual else "",
        target=subscription,
        request=request,
        details={
            "user_id": subscription.user_id,
            "source": "manual" if subscription.is_manual else "stripe",
            "from": {"plan": previous[0], "status": previous[1]} if previous else None,
            "to": {"plan": current[0], "status": current[1]},
        },
    )


# --------------------------------------------------------------------------- manual plans


@transaction.atomic
def subscription_manual_save(
    *, subscription: Subscription, actor: User | None, request: HttpRequest | None = None
) -> Subscription:
    """Save a manually assigned plan (the admin's form) and move its owner's role with it."""
    if not subscription.is_manual:
        raise PlanUnavailable("Stripe subscriptions change through Stripe, not here.")
    previous = None
    if subscription.pk:
        before = Subscription.objects.select_for_update().select_related("plan")
        before = before.get(pk=subscription.pk)
        previous = (before.plan.code, before.status)
    if subscription.status == SubscriptionStatus.CANCELED:
        subscription.canceled_at = subscription.canceled_at or timezone.now()
    else:
        subscription.canceled_at = None
    subscription.save()
    _audit_change(subscription, previous, actor=actor, request=request)
    user_role_sync(user=subscription.user, actor=actor, request=request)
    return subscription


def subscription_assign(
    *,
    user: User,
    plan: Plan,
    actor: User | None,
    current_period_end: datetime | None = None,
    request: HttpRequest | None = None,
) -> Subscription:
    """Give ``user`` ``plan`` by hand (manual billing), replacing their earlier manual plan."""
    with transaction.atomic():
        row = (
            Subscription.objects.select_for_update()
            .filter(user=user, stripe_subscription_id="")
            .first()
        ) or Subscription(user=user)
        row.plan = plan
        row.status = SubscriptionStatus.ACTIVE
        row.current_period_end = current_period_end
        row.cancel_at_period_end = False
        return subscription_manual_save(subscription=row, actor=actor, request=request)


@transaction.atomic
def subscription_manual_delete(
    *, subscription: Subscription, actor: User | None, request: HttpRequest | None = None
) -> None:
    if not subscription.is_manual:
        raise PlanUnavailable("Stripe subscriptions end through Stripe, not here.")
    user = subscription.user
    audit_log_record(
        action="billing.subscription_deleted",
        actor=actor,
        target=subscription,
        request=request,
        details={"user_id": user.pk, "plan": subscription.plan.code},
    )
    subscription.delete()
    user_role_sync(user=user, actor=actor, request=request)


def subscriptions_manual_expire(*, now: datetime | None = None) -> int:
    """End manual plans whose end date has passed; returns how many ended."""
    now = now or timezone.now()
    due = Subscription.objects.filter(
        stripe_subscription_id="", status__in=ENTITLED_STATUSES, current_period_end__lte=now
    ).values_list("pk", flat=True)
    ended = 0
    for pk in list(due):
        with transaction.atomic():
            row = Subscription.objects.select_for_update().filter(pk=pk).first()
            if row is None or row.status not in ENTITLED_STATUSES:
                continue
            row.status = SubscriptionStatus.CANCELED
            subscription_manual_save(subscription=row, actor=None)
            ended += 1
    return ended


# --------------------------------------------------------------------------- checkout, portal


def checkout_start(
    *, user: User, plan_code: str, success_url: str, cancel_url: str
) -> dict[str, str]:
    """Open a Stripe Checkout page for ``plan_code``; returns its ``id`` and ``url``.

    The person's role changes only when Stripe confirms the subscription (the
    ``checkout.session.completed`` and ``customer.subscription.*`` events).
    """
    if not gateway.is_configured():
        raise ManualBilling("Upgrades are handled by the administrator; ask them for a plan.")
    plan = Plan.objects.filter(code=plan_code, is_public=True).first()
    if plan is None or not selectors.plan_is_purchasable(plan):
        raise PlanUnavailable(
            "That plan cannot be bought here; ask the administrator.",
            details={"plan": [f"Choose one of: {', '.join(_purchasable_codes())}."]},
        )
    if user.is_superuser or user.role == Role.ADMIN:
        raise PlanUnavailable("Administrators already have every feature and no limits.")
    if any(not sub.is_manual for sub in selectors.subscriptions_entitled(user=user)):
        raise SubscriptionExists(
            "You already have a subscription; change or cancel it in the billing portal."
        )
    if role_rank(plan.code) <= role_rank(user.role):
        raise PlanUnavailable(f"Your plan already includes everything in {plan.name}.")
    session = gateway.checkout_session_create(
        price_id=plan.stripe_price_id,
        customer_id=selectors.stripe_customer_id(user=user),
        email=user.email,
        success_url=success_url,
        cancel_url=cancel_url,
        metadata={"user_id": str(user.pk), "plan": plan.code},
    )
    audit_log_record(
        action="billing.checkout_started",
        actor=user,
        details={"plan": plan.code, "session": session["id"]},
    )
    return {"id": session["id"], "url": session["url"]}


def _purchasable_codes() -> list[str]:
    return [plan.code for plan in selectors.plans_listed() if selectors.plan_is_purchasable(plan)]


def portal_start(*, user: User, return_url: str) -> dict[str, str]:
    """A Stripe customer portal link: payment methods, invoices, plan changes, cancelling."""
    if not gateway.is_configured():
        raise ManualBilling("Billing is handled by the administrator.")
    customer_id = selectors.stripe_customer_id(user=user)
    if not customer_id:
        raise NoBillingAccount("You have no paid subscription yet; choose a plan first.")
    session = gateway.portal_session_create(customer_id=customer_id, return_url=return_url)
    return {"url": session["url"]}


def subscription_cancel_set(
    *, user: User, cancel: bool, request: HttpRequest | None = None
) -> Subscription:
    """Cancel the person's Stripe subscription at the end of the period paid for, or undo that.

    The plan and every file stay until the period ends; Stripe then sends
    ``customer.subscription.deleted`` and the person moves to the free plan.
    """
    if not gateway.is_configured():
        raise ManualBilling("Plan changes are handled by the administrator.")
    current = selectors.subscription_current(user=user)
    if current is None or current.is_manual or not current.is_entitled:
        raise NoBillingAccount("You have no subscription to cancel.")
    data = gateway.subscription_update(
        subscription_id=current.stripe_subscription_id, cancel_at_period_end=cancel
    )
    with transaction.atomic():
        row = Subscription.objects.select_for_update().get(pk=current.pk)
        # Stripe's answer is at least as new as the last event applied.
        _stripe_state_apply(_subscription_state(data), created=row.stripe_event_created or 0)
        row.refresh_from_db()
        audit_log_record(
            action="billing.cancel_requested" if cancel else "billing.cancel_withdrawn",
            actor=user,
            target=row,
            request=request,
            details={"plan": row.plan.code, "period_end": _iso(row.current_period_end)},
        )
    return row


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --------------------------------------------------------------------------- Stripe events


def _object_id(value: Any) -> str:
    """Stripe fields hold an id or, when expanded, the object itself."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _moment(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None


def _subscription_state(data: dict[str, Any]) -> dict[str, Any]:
    """The fields billing keeps, from a Stripe subscription object of any API version."""
    items = (data.get("items") or {}).get("data") or []
    # The period moved from the subscription to its items in API version 2025-03-31.
    period_end = data.get("current_period_end") or max(
        (item.get("current_period_end") or 0 for item in items), default=0
    )
    return {
        "id": data["id"],
        "status": data["status"],
        "customer": _object_id(data.get("customer")),
        "period_end": period_end or 0,
        "cancel_at_period_end": bool(data.get("cancel_at_period_end") or data.get("cancel_at")),
        "canceled_at": data.get("canceled_at"),
        "price_ids": [_object_id(item.get("price")) for item in items if item.get("price")],
        "metadata": data.get("metadata") or {},
    }


def _plan_for(state: dict[str, Any]) -> Plan | None:
    """The plan of a subscription's price; its metadata names the plan when the price is unknown."""
    if state.get("price_ids"):
        plans = list(Plan.objects.filter(stripe_price_id__in=state["price_ids"]))
        if plans:
            return max(plans, key=lambda plan: role_rank(plan.code))
    code = state.get("metadata", {}).get("plan")
    return Plan.objects.filter(code=code).first() if code else None


def _user_for(state: dict[str, Any]) -> User | None:
    user_id = str(state.get("metadata", {}).get("user_id") or state.get("user_id") or "")
    if user_id.isdigit():
        if user := User.objects.filter(pk=int(user_id)).first():
            return user
    if state.get("customer"):
        known = Subscription.objects.filter(stripe_customer_id=state["customer"]).first()
        if known is not None:
            return known.user
    return None


def _is_newer(row: Subscription, created: int, state: dict[str, Any]) -> bool:
    """Whether an event created at ``created`` showing ``state`` may replace ``row``.

    Events are ordered by Stripe's creation time; within one second an ended
    subscription beats a live one and a later period beats an earlier one. A
    canceled subscription never comes back to life.
    """
    if row.status in TERMINAL_STATUSES and state["status"] not in TERMINAL_STATUSES:
        return False
    stored_period = row.current_period_end.timestamp() if row.current_period_end else 0
    stored = (row.stripe_event_created or 0, row.status in TERMINAL_STATUSES, stored_period)
    new = (created, state["status"] in TERMINAL_STATUSES, state.get("period_end") or 0)
    return new >= stored


def _stripe_state_apply(
    state: dict[str, Any], *, created: int, user: User | None = None, plan: Plan | None = None
) -> str:
    """Bring the row of Stripe subscription ``state["id"]`` to ``state`` unless it is older."""
    row = (
        Subscription.objects.select_for_update()
        .select_related("plan", "user")
        .filter(stripe_subscription_id=state["id"])
        .first()
    )
    previous = None
    if row is None:
        user = user or _user_for(state)
        plan = plan or _plan_for(state)
        if user is None or plan is None:
            logger.warning("Stripe subscription %s matches no person or plan", state["id"])
            return Outcome.UNMATCHED
        row = Subscription(user=user, plan=plan, stripe_subscription_id=state["id"])
    else:
        if not _is_newer(row, created, state):
            return Outcome.STALE
        previous = (row.plan.code, row.status)
        row.plan = plan or _plan_for(state) or row.plan
    row.status = state["status"]
    if state.get("customer"):
        row.stripe_customer_id = state["customer"]
    if state.get("period_end"):
        row.current_period_end = _moment(state["period_end"])
    if "cancel_at_period_end" in state:
        row.cancel_at_period_end = state["cancel_at_period_end"]
    if state.get("canceled_at") or state["status"] in TERMINAL_STATUSES:
        row.canceled_at = _moment(state.get("canceled_at")) or row.canceled_at or timezone.now()
    row.stripe_event_created = max(created, row.stripe_event_created or 0)
    row.save()
    _audit_change(row, previous)
    user_role_sync(user=row.user)
    return Outcome.APPLIED


def _on_subscription(data: dict[str, Any], created: int) -> str:
    return _stripe_state_apply(_subscription_state(data), created=created)


def _on_checkout_completed(data: dict[str, Any], created: int) -> str:
    subscription_id = _object_id(data.get("subscription"))
    if data.get("mode") != "subscription" or not subscription_id:
        return Outcome.IGNORED
    metadata = data.get("metadata") or {}
    paid = data.get("payment_status") in ("paid", "no_payment_required")
    state = {
        "id": subscription_id,
        "status": SubscriptionStatus.ACTIVE if paid else SubscriptionStatus.INCOMPLETE,
        "customer": _object_id(data.get("customer")),
        "user_id": data.get("client_reference_id") or "",
        "metadata": metadata,
        # The session does not say when the period ends: it loses ties with events that do.
        "period_end": 0,
    }
    return _stripe_state_apply(state, created=created)


def _invoice_subscription_id(invoice: dict[str, Any]) -> str:
    # Moved under parent.subscription_details in API version 2025-03-31.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _object_id(invoice.get("subscription") or details.get("subscription"))


def _on_payment_failed(data: dict[str, Any], created: int) -> str:
    subscription_id = _invoice_subscription_id(data)
    row = (
        Subscription.objects.select_for_update()
        .select_related("plan", "user")
        .filter(stripe_subscription_id=subscription_id)
        .first()
        if subscription_id
        else None
    )
    if row is None:
        return Outcome.UNMATCHED
    period = row.current_period_end.timestamp() if row.current_period_end else 0
    state = {"id": subscription_id, "status": SubscriptionStatus.PAST_DUE, "period_end": period}
    if not _is_newer(row, created, state):
        return Outcome.STALE
    previous = (row.plan.code, row.status)
    if row.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        row.status = SubscriptionStatus.PAST_DUE
    row.stripe_event_created = max(created, row.stripe_event_created or 0)
    row.save()
    _audit_change(row, previous)
    audit_log_record(
        action="billing.payment_failed",
        actor_email=STRIPE_ACTOR,
        target=row,
        details={
            "user_id": row.user_id,
            "invoice": data.get("id", ""),
            "amount_due": data.get("amount_due"),
            "attempt_count": data.get("attempt_count"),
            "next_payment_attempt": data.get("next_payment_attempt"),
        },
    )
    # Past due still grants the plan while Stripe retries; the sync changes nothing
    # unless the row was already in another state.
    user_role_sync(user=row.user)
    return Outcome.APPLIED


EVENT_HANDLERS = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription,
    "customer.subscription.updated": _on_subscription,
    "customer.subscription.deleted": _on_subscription,
    "invoice.payment_failed": _on_payment_failed,
}


@transaction.atomic
def webhook_event_process(*, event: dict[str, Any]) -> tuple[WebhookEvent, bool]:
    """Apply one verified Stripe event, once; returns its record and whether it was new.

    The record and the changes it causes commit together, so an event that
    fails half-way is not marked processed and Stripe's retry applies it.
    A second delivery (a replay, or a retry racing the first) changes nothing.
    """
    data = event["data"]["object"]
    record, created = WebhookEvent.objects.get_or_create(
        stripe_event_id=event["id"],
        defaults={
            "type": event["type"],
            "object_id": _object_id(data.get("id")),
            "created": _moment(event["created"]),
            "livemode": bool(event.get("livemode")),
            "outcome": Outcome.IGNORED,
        },
    )
    if not created:
        return record, False
    handler = EVENT_HANDLERS.get(event["type"])
    if handler is not None:
        record.outcome = handler(data, int(event["created"]))
        record.save(update_fields=["outcome"])
    return record, True


def stripe_events_reconcile(*, days: int = 3) -> dict[str, int]:
    """Apply any event of the last ``days`` the webhook missed (replays are no-ops)."""
    if not gateway.is_configured():
        return {"seen": 0, "applied": 0}
    since = int((timezone.now() - timedelta(days=days)).timestamp())
    seen = applied = 0
    for event in gateway.events_since(types=list(EVENT_HANDLERS), created_after=since):
        seen += 1
        _, new = webhook_event_process(event=event)
        applied += new
    if applied:
        logger.warning("billing reconciliation applied %d missed Stripe events", applied)
    return {"seen": seen, "applied": applied}


def stripe_subscription_end(*, subscription_id: str) -> None:
    """End a Stripe subscription now (its owner's account was deleted)."""
    gateway.subscription_cancel(subscription_id=subscription_id)
