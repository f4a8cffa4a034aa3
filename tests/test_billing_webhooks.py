"""Stripe's webhook: signatures, each event type, replays, events out of order, downgrades.

Payloads are signed with a test secret by the SDK's own helper
(``stripe.WebhookSignature.generate_signature_header``) and verified by the
SDK's ``stripe.Webhook.construct_event``; nothing talks to Stripe.
"""

from __future__ import annotations

import json
import time

import pytest
import stripe

from accounts.models import AuditLog, Role
from billing.models import Subscription, SubscriptionStatus, WebhookEvent
from billing.testing import (
    PERIOD,
    plans_seed,
    stripe_checkout_session,
    stripe_event,
    stripe_invoice,
    stripe_subscription,
)
from library.models import Collection
from tests.factories import SampleFactory, UserFactory, bearer

SECRET = "whsec_test_billing_secret"
T0 = 1_700_000_000


@pytest.fixture
def stripe_mode(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_billing"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    # Nothing listens here: a webhook that tried to call Stripe would fail loudly.
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"


@pytest.fixture
def plans(db):
    plans_seed({"pro": "price_pro", "studio": "price_studio"})


@pytest.fixture
def producer(db):
    return UserFactory(role=Role.FREE)


def deliver(client, event: dict, *, secret: str = SECRET, timestamp: int | None = None):
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return client.post(
        "/billing/webhook/", data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )  # fmt: skip


def subscribed(client, user, *, plan: str = "pro", price: str = "price_pro", at: int = T0):
    """The events Stripe sends after a successful checkout, in their usual order."""
    session = stripe_checkout_session(user_id=user.pk, plan=plan)
    assert (
        deliver(client, stripe_event("checkout.session.completed", session, created=at)).status_code
        == 200
    )
    created = stripe_subscription(user_id=user.pk, price_id=price, plan=plan, period_start=at)
    assert (
        deliver(
            client, stripe_event("customer.subscription.created", created, created=at)
        ).status_code
        == 200
    )


def role_of(user) -> str:
    user.refresh_from_db()
    return user.role


# --------------------------------------------------------------------------- each event type


@pytest.mark.django_db
def test_checkout_completed_starts_the_plan_and_moves_the_role(
    client, stripe_mode, plans, producer
):
    session = stripe_checkout_session(user_id=producer.pk, plan="pro")
    response = deliver(client, stripe_event("checkout.session.completed", session, created=T0))

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False, "outcome": "applied"}
    subscription = Subscription.objects.get(user=producer)
    assert (subscription.plan.code, subscription.status) == ("pro", SubscriptionStatus.ACTIVE)
    assert subscription.stripe_customer_id == "cus_1"
    assert subscription.stripe_subscription_id == "sub_1"
    assert role_of(producer) == Role.PRO
    assert AuditLog.objects.filter(action="billing.subscription_changed").count() == 1
    assert AuditLog.objects.get(action="user.role_changed").details == {"from": "free", "to": "pro"}


@pytest.mark.django_db
def test_unpaid_checkout_does_not_grant_the_plan(client, stripe_mode, plans, producer):
    session = stripe_checkout_session(user_id=producer.pk, payment_status="unpaid")
    deliver(client, stripe_event("checkout.session.completed", session, created=T0))

    assert Subscription.objects.get(user=producer).status == SubscriptionStatus.INCOMPLETE
    assert role_of(producer) == Role.FREE


@pytest.mark.django_db
def test_subscription_updated_changes_plan_period_and_role(client, stripe_mode, plans, producer):
    subscribed(client, producer)
    upgraded = stripe_subscription(
        user_id=producer.pk, price_id="price_studio", plan="pro", period_start=T0 + 100
    )
    response = deliver(
        client, stripe_event("customer.subscription.updated", upgraded, created=T0 + 100)
    )

    assert response.json()["outcome"] == "applied"
    subscription = Subscription.objects.get(user=producer)
    # The price decides the plan, not the metadata written at checkout.
    assert subscription.plan.code == "studio"
    assert subscription.current_period_end.timestamp() == T0 + 100 + PERIOD
    assert role_of(producer) == Role.STUDIO


@pytest.mark.django_db
def test_subscription_deleted_moves_the_person_to_free(client, stripe_mode, plans, producer):
    subscribed(client, producer)
    ended = stripe_subscription(
        user_id=producer.pk, status="canceled", canceled_at=T0 + 500, period_start=T0
    )
    deliver(client, stripe_event("customer.subscription.deleted", ended, created=T0 + 500))

    subscription = Subscription.objects.get(user=producer)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert subscription.canceled_at.timestamp() == T0 + 500
    assert role_of(producer) == Role.FREE


@pytest.mark.django_db
def test_payment_failed_marks_past_due_and_keeps_the_plan_while_stripe_retries(
    client, stripe_mode, plans, producer
):
    subscribed(client, producer)
    failed = stripe_event("invoice.payment_failed", stripe_invoice(), created=T0 + PERIOD + 60)
    assert deliver(client, failed).json()["outcome"] == "applied"

    assert Subscription.objects.get(user=producer).status == SubscriptionStatus.PAST_DUE
    assert role_of(producer) == Role.PRO
    logged = AuditLog.objects.get(action="billing.payment_failed")
    assert logged.actor_email == "stripe" and logged.details["amount_due"] == 900
    client.force_login(producer)
    assert "Your last payment failed" in client.get("/billing/").content.decode()

    # Stripe gives up: the subscription becomes unpaid and the plan goes.
    unpaid = stripe_subscription(user_id=producer.pk, status="unpaid", period_start=T0 + PERIOD)
    deliver(
        client, stripe_event("customer.subscription.updated", unpaid, created=T0 + PERIOD + 9000)
    )
    assert role_of(producer) == Role.FREE


@pytest.mark.django_db
def test_payment_failed_for_an_unknown_subscription_is_recorded_unmatched(
    client, stripe_mode, plans
):
    response = deliver(client, stripe_event("invoice.payment_failed", stripe_invoice(), created=T0))

    assert response.status_code == 200 and response.json()["outcome"] == "unmatched"
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_other_event_types_are_acknowledged_and_ignored(client, stripe_mode, plans, producer):
    event = stripe_event("customer.created", {"id": "cus_9", "object": "customer"}, created=T0)
    response = deliver(client, event)

    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert WebhookEvent.objects.get().type == "customer.created"


@pytest.mark.django_db
def test_an_administrator_keeps_the_admin_role_when_subscribing(client, stripe_mode, plans):
    admin = UserFactory(role=Role.ADMIN)
    subscribed(client, admin)
    deliver(
        client,
        stripe_event(
            "customer.subscription.deleted",
            stripe_subscription(user_id=admin.pk, status="canceled", canceled_at=T0 + 5),
            created=T0 + 5,
        ),
    )
    assert role_of(admin) == Role.ADMIN and admin.is_staff


# --------------------------------------------------------------------------- signatures


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "no header", "garbage header", "too old"],
)
def test_a_bad_signature_is_refused_with_400_and_changes_nothing(
    client, stripe_mode, plans, producer, tamper
):
    event = stripe_event(
        "checkout.session.completed", stripe_checkout_session(user_id=producer.pk), created=T0
    )
    payload = json.dumps(event)
    secret = "whsec_someone_else" if tamper == "wrong secret" else SECRET
    timestamp = int(time.time()) - 3600 if tamper == "too old" else None
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    if tamper == "changed body":
        payload = payload.replace('"plan": "pro"', '"plan": "studio"')
    headers = {"HTTP_STRIPE_SIGNATURE": header}
    if tamper == "no header":
        headers = {}
    elif tamper == "garbage header":
        headers = {"HTTP_STRIPE_SIGNATURE": "v1=deadbeef"}

    response = client.post(
        "/billing/webhook/", data=payload, content_type="application/json", **headers
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()
    assert not Subscription.objects.exists()
    assert role_of(producer) == Role.FREE


@pytest.mark.django_db
def test_without_a_webhook_secret_every_event_is_refused(client, settings, plans, producer):
    settings.STRIPE_WEBHOOK_SECRET = ""
    event = stripe_event(
        "checkout.session.completed", stripe_checkout_session(user_id=producer.pk), created=T0
    )
    response = deliver(client, event, secret="whsec_anything")

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_signed_body_that_is_not_an_event_is_refused(client, stripe_mode, plans):
    response = deliver(client, {"hello": "world"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_the_webhook_accepts_only_post(client, stripe_mode):
    assert client.get("/billing/webhook/").status_code == 405


# --------------------------------------------------------------------------- once, in order


@pytest.mark.django_db
def test_a_replayed_event_is_a_no_op(client, stripe_mode, plans, producer):
    session = stripe_checkout_session(user_id=producer.pk)
    event = stripe_event("checkout.session.completed", session, created=T0)
    first = deliver(client, event)
    audit_entries = AuditLog.objects.count()

    again = deliver(client, event)

    assert first.json()["duplicate"] is False
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert WebhookEvent.objects.filter(stripe_event_id=event["id"]).count() == 1
    assert Subscription.objects.count() == 1
    assert AuditLog.objects.count() == audit_entries


@pytest.mark.django_db
def test_replaying_an_old_event_after_a_cancellation_does_not_bring_the_plan_back(
    client, stripe_mode, plans, producer
):
    session_event = stripe_event(
        "checkout.session.completed", stripe_checkout_session(user_id=producer.pk), created=T0
    )
    deliver(client, session_event)
    ended = stripe_subscription(user_id=producer.pk, status="canceled", canceled_at=T0 + 50)
    deliver(client, stripe_event("customer.subscription.deleted", ended, created=T0 + 50))

    deliver(client, session_event)  # the same event id, delivered again

    assert Subscription.objects.get().status == SubscriptionStatus.CANCELED
    assert role_of(producer) == Role.FREE


@pytest.mark.django_db
def test_a_late_update_does_not_revive_a_deleted_subscription(client, stripe_mode, plans, producer):
    subscribed(client, producer)
    ended = stripe_subscription(user_id=producer.pk, status="canceled", canceled_at=T0 + 300)
    still_active = stripe_subscription(user_id=producer.pk, period_start=T0)

    deliver(client, stripe_event("customer.subscription.deleted", ended, created=T0 + 300))
    late = deliver(
        client, stripe_event("customer.subscription.updated", still_active, created=T0 + 200)
    )

    assert late.json()["outcome"] == "stale"
    assert Subscription.objects.get().status == SubscriptionStatus.CANCELED
    assert role_of(producer) == Role.FREE


@pytest.mark.django_db
def test_an_older_plan_change_arriving_late_does_not_roll_the_plan_back(
    client, stripe_mode, plans, producer
):
    subscribed(client, producer, at=T0)
    to_studio = stripe_subscription(user_id=producer.pk, price_id="price_studio", period_start=T0)
    back_to_pro = stripe_subscription(user_id=producer.pk, price_id="price_pro", period_start=T0)

    deliver(client, stripe_event("customer.subscription.updated", to_studio, created=T0 + 200))
    deliver(client, stripe_event("customer.subscription.updated", back_to_pro, created=T0 + 100))

    assert Subscription.objects.get().plan.code == "studio"
    assert role_of(producer) == Role.STUDIO


@pytest.mark.django_db
def test_events_arriving_before_the_checkout_event_are_not_undone_by_it(
    client, stripe_mode, plans, producer
):
    # Stripe does not promise order: the subscription's own events come first here.
    created = stripe_subscription(user_id=producer.pk, period_start=T0)
    renewed = stripe_subscription(user_id=producer.pk, period_start=T0 + PERIOD)
    deliver(client, stripe_event("customer.subscription.created", created, created=T0))
    deliver(client, stripe_event("customer.subscription.updated", renewed, created=T0 + PERIOD))

    session = stripe_checkout_session(user_id=producer.pk)
    late = deliver(client, stripe_event("checkout.session.completed", session, created=T0))

    assert late.json()["outcome"] == "stale"
    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_period_end.timestamp() == T0 + 2 * PERIOD
    assert role_of(producer) == Role.PRO


@pytest.mark.django_db
def test_in_the_same_second_a_cancellation_beats_an_update(client, stripe_mode, plans, producer):
    subscribed(client, producer)
    ended = stripe_subscription(user_id=producer.pk, status="canceled", canceled_at=T0 + 10)
    active = stripe_subscription(user_id=producer.pk, period_start=T0)

    deliver(client, stripe_event("customer.subscription.deleted", ended, created=T0 + 10))
    deliver(client, stripe_event("customer.subscription.updated", active, created=T0 + 10))

    assert Subscription.objects.get().status == SubscriptionStatus.CANCELED
    assert role_of(producer) == Role.FREE


@pytest.mark.django_db
def test_a_payment_failure_older_than_the_recovery_is_ignored(client, stripe_mode, plans, producer):
    subscribed(client, producer)
    recovered = stripe_subscription(user_id=producer.pk, period_start=T0 + PERIOD)
    deliver(
        client, stripe_event("customer.subscription.updated", recovered, created=T0 + PERIOD + 500)
    )

    late = stripe_event("invoice.payment_failed", stripe_invoice(), created=T0 + PERIOD + 60)
    assert deliver(client, late).json()["outcome"] == "stale"
    assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE


# --------------------------------------------------------------------------- downgrades


@pytest.mark.django_db
def test_downgrade_keeps_data_over_the_new_quota_and_refuses_new_work(
    client, stripe_mode, plans, producer
):
    subscribed(client, producer)
    assert role_of(producer) == Role.PRO
    for number in range(5):
        response = client.post(
            "/api/v1/collections", {"name": f"Kit {number}"},
            content_type="application/json", **bearer(producer),
        )  # fmt: skip
        assert response.status_code == 201, response.content
    # 150 MB of samples: more than the free plan's 100 MB.
    SampleFactory.create_batch(3, owner=producer, size_bytes=50 * 1024**2)

    ended = stripe_subscription(user_id=producer.pk, status="canceled", canceled_at=T0 + 99)
    deliver(client, stripe_event("customer.subscription.deleted", ended, created=T0 + 99))
    assert role_of(producer) == Role.FREE  # free allows 3 collections and 100 MB

    # Everything is still there, and readable.
    listed = client.get("/api/v1/collections", **bearer(producer))
    assert listed.status_code == 200
    assert Collection.objects.filter(owner=producer).count() == 5
    assert producer.samples.count() == 3
    kit = Collection.objects.filter(owner=producer).first()
    renamed = client.patch(
        f"/api/v1/collections/{kit.pk}", {"name": "Renamed kit"},
        content_type="application/json", **bearer(producer),
    )  # fmt: skip
    assert renamed.status_code == 200

    # New work must fit the smaller plan.
    sixth = client.post(
        "/api/v1/collections", {"name": "Kit 6"}, content_type="application/json",
        **bearer(producer),
    )  # fmt: skip
    assert sixth.status_code == 403
    assert sixth.json()["error"]["code"] == "quota_exceeded"
    assert Collection.objects.filter(owner=producer).count() == 5

    # The usage page shows the overrun without hiding anything.
    client.force_login(producer)
    page = client.get("/billing/").content.decode()
    assert "Over your plan&#x27;s limit" in page or "Over your plan's limit" in page
    usage = client.get("/api/v1/billing/subscription", **bearer(producer)).json()["usage"]
    assert usage["collections"] == {"used": 5, "limit": 3}
    assert usage["storage_bytes"] == {"used": 150 * 1024**2, "limit": 100 * 1024**2}
