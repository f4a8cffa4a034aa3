"""Checkout, portal, cancelling, nightly reconciliation and account deletion against Stripe.

The real ``stripe`` SDK talks HTTP to a local server (``billing.testing.FakeStripe``)
answering with recorded Stripe responses; what the SDK sent is checked there.
"""

from __future__ import annotations

import base64
import json

import pytest
import redis

from accounts.models import AuditLog, Role
from accounts.services import user_delete
from billing import services, tasks
from billing.models import Subscription, SubscriptionStatus, WebhookEvent
from billing.testing import (
    PERIOD,
    FakeStripe,
    plans_seed,
    stripe_checkout_session,
    stripe_event,
    stripe_subscription,
)
from tests.factories import UserFactory, bearer

T0 = 1_700_000_000
CHECKOUT_URL = "https://checkout.stripe.com/c/pay/cs_test_a1b2c3#fidkdWxOYHwnPyd1blpxYHZxWjA0"
PORTAL_URL = "https://billing.stripe.com/p/session/test_YWNjdF8xTjVYY2tEYUpROVpLUVhQ"


@pytest.fixture
def stripe_api(settings):
    with FakeStripe() as fake:
        settings.STRIPE_SECRET_KEY = "sk_test_billing"
        settings.STRIPE_WEBHOOK_SECRET = "whsec_test_billing"
        settings.STRIPE_API_BASE = fake.url
        yield fake


@pytest.fixture
def plans(db):
    plans_seed({"pro": "price_pro", "studio": "price_studio"})


def checkout_session_response(user_id: int, *, customer: str | None = None) -> dict:
    """POST /v1/checkout/sessions, as Stripe answers it (trimmed to what matters here)."""
    return {
        "id": "cs_test_a1b2c3",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "open",
        "payment_status": "unpaid",
        "client_reference_id": str(user_id),
        "customer": customer,
        "subscription": None,
        "url": CHECKOUT_URL,
        "expires_at": T0 + 86400,
        "livemode": False,
    }


def portal_session_response(customer: str) -> dict:
    return {
        "id": "bps_1N5XckDaJQ9ZKQXQ",
        "object": "billing_portal.session",
        "customer": customer,
        "livemode": False,
        "return_url": "http://testserver/billing/",
        "url": PORTAL_URL,
    }


def on_stripe_plan(user, *, plan: str = "pro", status: str = "active") -> Subscription:
    """A subscription as the webhook would have stored it."""
    state = stripe_subscription(user_id=user.pk, plan=plan, price_id=f"price_{plan}", status=status)
    services.webhook_event_process(
        event=stripe_event("customer.subscription.created", state, created=T0)
    )
    return Subscription.objects.get(stripe_subscription_id="sub_1")


# --------------------------------------------------------------------------- checkout


@pytest.mark.django_db
def test_checkout_api_opens_a_stripe_checkout_for_the_plan(client, stripe_api, plans):
    user = UserFactory()
    stripe_api.respond("POST", "/v1/checkout/sessions", checkout_session_response(user.pk))

    response = client.post(
        "/api/v1/billing/checkout", {"plan": "pro"}, content_type="application/json",
        **bearer(user),
    )  # fmt: skip

    assert response.status_code == 201, response.content
    assert response.json() == {"id": "cs_test_a1b2c3", "url": CHECKOUT_URL}
    (sent,) = stripe_api.requests_to("POST", "/v1/checkout/sessions")
    assert sent.headers["authorization"] == "Bearer sk_test_billing"
    assert sent.params["mode"] == "subscription"
    assert sent.params["line_items[0][price]"] == "price_pro"
    assert sent.params["line_items[0][quantity]"] == "1"
    assert sent.params["client_reference_id"] == str(user.pk)
    assert sent.params["customer_email"] == user.email
    assert sent.params["metadata[plan]"] == "pro"
    assert sent.params["subscription_data[metadata][user_id]"] == str(user.pk)
    assert sent.params["success_url"] == "http://testserver/billing/?checkout=success"
    assert sent.params["cancel_url"] == "http://testserver/billing/plans/?checkout=canceled"
    # Nothing changes until Stripe confirms the payment.
    user.refresh_from_db()
    assert user.role == Role.FREE and not Subscription.objects.exists()


@pytest.mark.django_db
def test_checkout_reuses_the_stripe_customer_of_an_earlier_subscription(client, stripe_api, plans):
    user = UserFactory()
    on_stripe_plan(user, status="canceled")
    stripe_api.respond("POST", "/v1/checkout/sessions", checkout_session_response(user.pk))

    client.post(
        "/api/v1/billing/checkout", {"plan": "studio"}, content_type="application/json",
        **bearer(user),
    )  # fmt: skip

    (sent,) = stripe_api.requests_to("POST", "/v1/checkout/sessions")
    assert sent.params["customer"] == "cus_1"
    assert "customer_email" not in sent.params
    assert sent.params["line_items[0][price]"] == "price_studio"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "plan", "status", "code"),
    [
        (Role.FREE, "enterprise", 400, "plan_unavailable"),  # no Stripe price: ask the admin
        (Role.FREE, "free", 400, "plan_unavailable"),
        (Role.FREE, "platinum", 400, "plan_unavailable"),
        (Role.STUDIO, "pro", 400, "plan_unavailable"),  # not larger than the current plan
        (Role.ADMIN, "pro", 400, "plan_unavailable"),
    ],
)
def test_checkout_refuses_plans_that_cannot_be_bought(
    client, stripe_api, plans, role, plan, status, code
):
    user = UserFactory(role=role)
    response = client.post(
        "/api/v1/billing/checkout", {"plan": plan}, content_type="application/json",
        **bearer(user),
    )  # fmt: skip

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert stripe_api.requests == []


@pytest.mark.django_db
def test_checkout_with_a_running_subscription_points_to_the_portal(client, stripe_api, plans):
    user = UserFactory()
    on_stripe_plan(user)

    response = client.post(
        "/api/v1/billing/checkout", {"plan": "studio"}, content_type="application/json",
        **bearer(user),
    )  # fmt: skip

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "subscription_exists"
    assert "portal" in response.json()["error"]["message"]
    assert stripe_api.requests == []


@pytest.mark.django_db
def test_a_stripe_refusal_is_a_502_and_changes_nothing(client, stripe_api, plans):
    user = UserFactory()
    stripe_api.respond(
        "POST",
        "/v1/checkout/sessions",
        {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": "line_items[0][price]",
                "message": "No such price: 'price_pro'",
            }
        },
        status=400,
    )

    response = client.post(
        "/api/v1/billing/checkout", {"plan": "pro"}, content_type="application/json",
        **bearer(user),
    )  # fmt: skip

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_error"
    assert not AuditLog.objects.filter(action="billing.checkout_started").exists()


@pytest.mark.django_db
def test_the_upgrade_button_sends_the_browser_to_stripe(client, stripe_api, plans):
    user = UserFactory()
    stripe_api.respond("POST", "/v1/checkout/sessions", checkout_session_response(user.pk))
    client.force_login(user)

    pricing = client.get("/billing/plans/").content.decode()
    assert 'action="/billing/checkout/pro/"' in pricing
    assert 'action="/billing/checkout/enterprise/"' not in pricing
    response = client.post("/billing/checkout/pro/")

    assert response.status_code == 303
    assert response["Location"] == CHECKOUT_URL


@pytest.mark.django_db
def test_the_upgrade_button_shows_stripe_errors_on_the_pricing_page(client, stripe_api, plans):
    client.force_login(UserFactory())

    response = client.post("/billing/checkout/pro/", follow=True)  # the fake knows no route

    assert response.redirect_chain[-1][0] == "/billing/plans/"
    assert "payment provider could not be reached" in response.content.decode()


# --------------------------------------------------------------------------- portal, cancel


@pytest.mark.django_db
def test_portal_link_for_a_customer(client, stripe_api, plans):
    user = UserFactory()
    on_stripe_plan(user)
    stripe_api.respond("POST", "/v1/billing_portal/sessions", portal_session_response("cus_1"))

    response = client.post("/api/v1/billing/portal", **bearer(user))

    assert response.status_code == 200
    assert response.json() == {"url": PORTAL_URL}
    (sent,) = stripe_api.requests_to("POST", "/v1/billing_portal/sessions")
    assert sent.params == {"customer": "cus_1", "return_url": "http://testserver/billing/"}


@pytest.mark.django_db
def test_portal_without_a_subscription_is_refused(client, stripe_api, plans):
    response = client.post("/api/v1/billing/portal", **bearer(UserFactory()))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_billing_account"
    assert stripe_api.requests == []


@pytest.mark.django_db
def test_cancel_ends_the_plan_at_period_end_and_keep_withdraws_it(client, stripe_api, plans):
    user = UserFactory()
    on_stripe_plan(user)
    client.force_login(user)
    assert "Cancel subscription" in client.get("/billing/").content.decode()
    confirm = client.get("/billing/cancel/").content.decode()
    assert "Nothing is deleted" in confirm

    cancelled = stripe_subscription(user_id=user.pk, cancel_at_period_end=True)
    stripe_api.respond("POST", "/v1/subscriptions/sub_1", cancelled)
    response = client.post("/billing/cancel/", follow=True)

    (sent,) = stripe_api.requests_to("POST", "/v1/subscriptions/sub_1")
    assert sent.params == {"cancel_at_period_end": "true"}
    subscription = Subscription.objects.get()
    assert subscription.cancel_at_period_end and subscription.status == SubscriptionStatus.ACTIVE
    user.refresh_from_db()
    assert user.role == Role.PRO  # until the period ends
    page = response.content.decode()
    assert "Cancelled: your Pro plan ends on" in page and "Keep my plan" in page
    assert AuditLog.objects.filter(action="billing.cancel_requested", actor=user).exists()

    stripe_api.respond("POST", "/v1/subscriptions/sub_1", stripe_subscription(user_id=user.pk))
    client.post("/billing/resume/")
    assert not Subscription.objects.get().cancel_at_period_end
    assert stripe_api.requests_to("POST", "/v1/subscriptions/sub_1")[-1].params == {
        "cancel_at_period_end": "false"
    }


# --------------------------------------------------------------------------- reconciliation


@pytest.mark.django_db
def test_nightly_reconciliation_applies_events_the_webhook_missed(stripe_api, plans):
    user = UserFactory()
    seen = stripe_event(
        "checkout.session.completed", stripe_checkout_session(user_id=user.pk), created=T0
    )
    services.webhook_event_process(event=seen)
    missed = stripe_event(
        "customer.subscription.deleted",
        stripe_subscription(user_id=user.pk, status="canceled", canceled_at=T0 + PERIOD),
        created=T0 + PERIOD,
    )
    # Stripe lists newest first.
    stripe_api.respond(
        "GET",
        "/v1/events",
        {"object": "list", "url": "/v1/events", "has_more": False, "data": [missed, seen]},
    )

    result = tasks.reconcile.apply().get()

    assert result == {"manual_ended": 0, "seen": 2, "applied": 1}
    (sent,) = stripe_api.requests_to("GET", "/v1/events")
    assert "customer.subscription.deleted" in sent.params.values()
    assert any(key.startswith("created[gt]") for key in sent.params)
    assert Subscription.objects.get().status == SubscriptionStatus.CANCELED
    assert WebhookEvent.objects.count() == 2
    user.refresh_from_db()
    assert user.role == Role.FREE


# --------------------------------------------------------------------------- deleted accounts


@pytest.mark.django_db
def test_deleting_an_account_ends_its_stripe_subscription(
    stripe_api, plans, test_services, django_capture_on_commit_callbacks
):
    user = UserFactory()
    on_stripe_plan(user)
    queue = redis.Redis.from_url(test_services["redis_url"])
    queue.delete("celery")

    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user, actor=None)

    messages = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]
    (message,) = [m for m in messages if m["headers"]["task"] == "billing.stripe_subscription_end"]
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == ["sub_1"]

    ended = {**stripe_subscription(user_id=user.pk, status="canceled"), "canceled_at": T0}
    stripe_api.respond("DELETE", "/v1/subscriptions/sub_1", ended)
    tasks.stripe_subscription_end.apply(args=args).get()
    assert len(stripe_api.requests_to("DELETE", "/v1/subscriptions/sub_1")) == 1


@pytest.mark.django_db
def test_ending_a_subscription_stripe_no_longer_knows_is_done(stripe_api, plans):
    # The fake answers 404 resource_missing, as Stripe does for an unknown id.
    tasks.stripe_subscription_end.apply(args=["sub_gone"]).get()
    assert len(stripe_api.requests_to("DELETE", "/v1/subscriptions/sub_gone")) == 1
