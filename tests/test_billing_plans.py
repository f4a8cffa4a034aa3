"""Plans, usage, the billing pages and the admin, in manual mode (no Stripe keys) unless said."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditLog, Role
from accounts.rbac import ROLE_QUOTAS
from billing import tasks
from billing.models import Plan, PlanCode, Subscription, SubscriptionStatus
from billing.testing import plans_seed
from tests.factories import (
    CollectionFactory,
    SampleFactory,
    SubscriptionFactory,
    UserFactory,
    bearer,
)

GB = 1024**3


@pytest.fixture
def plans(db, settings):
    settings.STRIPE_SECRET_KEY = ""  # manual mode, whatever the environment says
    plans_seed()


@pytest.fixture
def admin_client(client, plans):
    admin = UserFactory(role=Role.ADMIN, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


# --------------------------------------------------------------------------- one quota table


@pytest.mark.django_db
def test_there_is_one_plan_per_sellable_role_carrying_that_roles_quotas(plans):
    assert set(Plan.objects.values_list("code", flat=True)) == set(Role.values) - {Role.ADMIN}
    for plan in Plan.objects.all():
        assert plan.quotas == ROLE_QUOTAS[plan.code]
    assert set(PlanCode.values) == set(ROLE_QUOTAS) - {Role.ADMIN}


# --------------------------------------------------------------------------- API


@pytest.mark.django_db
def test_plans_api_is_public_and_lists_prices_and_quotas_in_ladder_order(
    client, plans, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):
        response = client.get("/api/v1/billing/plans")

    assert response.status_code == 200
    body = response.json()
    assert [plan["code"] for plan in body] == ["free", "pro", "studio", "enterprise"]
    pro = body[1]
    assert pro["price"] == 900 and pro["currency"] == "usd" and pro["interval"] == "month"
    assert pro["quotas"] == asdict(ROLE_QUOTAS[Role.PRO])
    assert "search:similar" in pro["permissions"] and "search:similar" not in body[0]["permissions"]
    assert body[3]["quotas"]["storage_bytes"] is None  # unlimited
    assert not any(plan["purchasable"] for plan in body)  # manual mode


@pytest.mark.django_db
def test_plans_are_purchasable_in_stripe_mode_when_they_have_a_price(client, plans, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_billing"
    Plan.objects.filter(code="pro").update(stripe_price_id="price_pro")

    body = client.get("/api/v1/billing/plans").json()

    assert {plan["code"]: plan["purchasable"] for plan in body} == {
        "free": False,
        "pro": True,
        "studio": False,
        "enterprise": False,
    }


@pytest.mark.django_db
def test_plans_hidden_from_the_pricing_page_are_not_listed(client, plans):
    Plan.objects.filter(code="enterprise").update(is_public=False)

    codes = [plan["code"] for plan in client.get("/api/v1/billing/plans").json()]

    assert codes == ["free", "pro", "studio"]


@pytest.mark.django_db
def test_subscription_api_reports_plan_and_usage_from_real_data(client, plans):
    user = UserFactory(role=Role.PRO)
    SampleFactory(owner=user, size_bytes=3000)
    old = SampleFactory(owner=user, size_bytes=7000)
    old.__class__.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    CollectionFactory(owner=user, name="Drums")
    SampleFactory(size_bytes=10**6)  # someone else's
    for _ in range(3):
        assert client.get("/api/v1/auth/me", **bearer(user)).status_code == 200

    response = client.get("/api/v1/billing/subscription", **bearer(user))

    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "manual" and body["role"] == "pro"
    assert body["plan"]["code"] == "pro" and body["subscription"] is None
    assert body["usage"] == {
        "uploads_today": {"used": 1, "limit": 100},
        "storage_bytes": {"used": 10000, "limit": 5 * GB},
        "collections": {"used": 1, "limit": 50},
        "api_requests_minute": {"used": 3, "limit": 100},
        "api_requests_today": {"used": 3, "limit": None},
    }


@pytest.mark.django_db
def test_subscription_api_needs_a_signed_in_caller(client, plans):
    assert client.get("/api/v1/billing/subscription").status_code == 401


@pytest.mark.django_db
def test_checkout_in_manual_mode_says_the_administrator_handles_upgrades(client, plans):
    response = client.post(
        "/api/v1/billing/checkout", {"plan": "pro"}, content_type="application/json",
        **bearer(UserFactory()),
    )  # fmt: skip

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "billing_manual" and "administrator" in error["message"]


@pytest.mark.django_db
def test_checkout_needs_a_plan(client, plans, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_billing"
    response = client.post(
        "/api/v1/billing/checkout", {}, content_type="application/json", **bearer(UserFactory())
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["plan"]


# --------------------------------------------------------------------------- pages


@pytest.mark.django_db
def test_pricing_page_for_a_visitor(client, plans):
    page = client.get("/billing/plans/").content.decode()

    for name in ("Free", "Pro", "Studio", "Enterprise"):
        assert f'<h2 class="plan__name">{name}</h2>' in page
    assert "USD 9" in page and "USD 29" in page
    assert "100.0\xa0MB" in page and "Unlimited" in page
    assert "assigned by the administrator" in page
    assert "Sign up, then upgrade" in page
    assert "/billing/checkout/" not in page


@pytest.mark.django_db
def test_pricing_page_in_manual_mode_offers_no_checkout(client, plans):
    client.force_login(UserFactory())
    page = client.get("/billing/plans/").content.decode()

    assert page.count("Your plan</p>") == 1
    assert "Ask the administrator for this plan." in page
    assert "/billing/checkout/" not in page


@pytest.mark.django_db
def test_overview_page_shows_plan_and_usage_bars(client, plans):
    user = UserFactory(role=Role.FREE)
    SampleFactory.create_batch(2, owner=user, size_bytes=30 * 1024**2)
    CollectionFactory(owner=user, name="One")
    client.force_login(user)

    page = client.get("/billing/").content.decode()

    assert '<h2 id="plan-heading">Free</h2>' in page
    assert '<progress class="meter__bar" max="10" value="2"' in page  # uploads today
    assert f'max="{100 * 1024**2}" value="{60 * 1024**2}"' in page  # storage
    assert '<progress class="meter__bar" max="3" value="1"' in page  # collections
    assert "Upgrades and cancellations are handled by the administrator." in page
    assert "Cancel subscription" not in page
    assert 'href="/static/billing/billing.css"' in page or "billing.css" in page


@pytest.mark.django_db
def test_billing_pages_need_a_sign_in(client, plans):
    for path in ("/billing/", "/billing/cancel/"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post("/billing/checkout/pro/").status_code == 302


@pytest.mark.django_db
def test_cancel_page_in_manual_mode_points_to_the_administrator(client, plans):
    client.force_login(UserFactory(role=Role.PRO))
    page = client.get("/billing/cancel/").content.decode()
    assert "handled by the administrator" in page

    response = client.post("/billing/cancel/", follow=True)
    assert "handled by the administrator" in response.content.decode()


# --------------------------------------------------------------------------- admin


@pytest.mark.django_db
def test_admin_assigns_a_plan_and_the_role_follows(admin_client):
    user = UserFactory(role=Role.FREE)
    studio = Plan.objects.get(code="studio")

    response = admin_client.post(
        "/admin/billing/subscription/add/",
        {"user": user.pk, "plan": studio.pk, "status": "active", "current_period_end_0": ""},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = Subscription.objects.get(user=user)
    assert subscription.is_manual and subscription.status == SubscriptionStatus.ACTIVE
    user.refresh_from_db()
    assert user.role == Role.STUDIO
    assert AuditLog.objects.filter(
        action="billing.subscription_changed", actor=admin_client.admin
    ).exists()

    # A second manual plan for the same person is refused: change the first one.
    again = admin_client.post(
        "/admin/billing/subscription/add/",
        {"user": user.pk, "plan": studio.pk, "status": "active"},
    )
    assert (
        again.status_code == 200
        and "already has a manually assigned plan" in again.content.decode()
    )

    change = admin_client.post(
        f"/admin/billing/subscription/{subscription.pk}/change/",
        {"user": user.pk, "plan": studio.pk, "status": "canceled"},
    )
    assert change.status_code == 302
    user.refresh_from_db()
    assert user.role == Role.FREE
    assert Subscription.objects.get().canceled_at is not None


@pytest.mark.django_db
def test_admin_end_now_action_and_delete_move_people_back_to_free(admin_client):
    pro = Plan.objects.get(code="pro")
    first, second = UserFactory(), UserFactory()
    for user in (first, second):
        SubscriptionFactory(user=user, plan=pro)
        user.role = Role.PRO
        user.save()

    admin_client.post(
        "/admin/billing/subscription/",
        {"action": "end_now", "_selected_action": [Subscription.objects.get(user=first).pk]},
    )
    admin_client.post(
        f"/admin/billing/subscription/{Subscription.objects.get(user=second).pk}/delete/",
        {"post": "yes"},
    )

    first.refresh_from_db(), second.refresh_from_db()
    assert (first.role, second.role) == (Role.FREE, Role.FREE)
    assert Subscription.objects.get(user=first).status == SubscriptionStatus.CANCELED
    assert not Subscription.objects.filter(user=second).exists()


@pytest.mark.django_db
def test_admin_cannot_edit_a_stripe_subscription(admin_client):
    subscription = SubscriptionFactory(
        user=UserFactory(), plan=Plan.objects.get(code="pro"), stripe_subscription_id="sub_1"
    )
    url = f"/admin/billing/subscription/{subscription.pk}/change/"

    assert admin_client.get(url).status_code == 200  # view only
    response = admin_client.post(url, {"status": "canceled"})
    assert response.status_code == 403
    assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE


@pytest.mark.django_db
def test_admin_overview_shows_subscribers_per_plan_and_mrr(admin_client):
    pro, studio = Plan.objects.get(code="pro"), Plan.objects.get(code="studio")
    for _ in range(3):
        SubscriptionFactory(
            user=UserFactory(role=Role.PRO), plan=pro, stripe_subscription_id=f"sub_{_}"
        )
    SubscriptionFactory(user=UserFactory(role=Role.STUDIO), plan=studio)  # manual
    SubscriptionFactory(
        user=UserFactory(), plan=studio, status=SubscriptionStatus.CANCELED,
        stripe_subscription_id="sub_old",
    )  # fmt: skip
    SubscriptionFactory(
        user=UserFactory(role=Role.PRO), plan=pro, status=SubscriptionStatus.PAST_DUE,
        stripe_subscription_id="sub_late",
    )  # fmt: skip

    response = admin_client.get("/admin/billing/plan/overview/")

    assert response.status_code == 200
    rows = {row.plan.code: row for row in response.context["overview"]["plans"]}
    assert (rows["pro"].people, rows["pro"].stripe_subscriptions) == (4, 4)
    assert (rows["studio"].stripe_subscriptions, rows["studio"].manual_subscriptions) == (0, 1)
    # 4 × 9.00 + 1 × 29.00
    assert response.context["overview"]["mrr_cents"] == 6500
    assert '<strong id="mrr-total">USD 65.00</strong>' in response.content.decode()
    assert "Subscribers and revenue" in admin_client.get("/admin/billing/plan/").content.decode()


@pytest.mark.django_db
def test_admin_plan_page_shows_the_roles_quotas_read_only(admin_client):
    pro = Plan.objects.get(code="pro")
    page = admin_client.get(f"/admin/billing/plan/{pro.pk}/change/").content.decode()

    assert "Uploads a day: 100" in page and "Storage: 5.0\xa0GB" in page

    response = admin_client.post(
        f"/admin/billing/plan/{pro.pk}/change/",
        {
            "name": "Pro",
            "description": "",
            "price_cents": 1200,
            "currency": "usd",
            "stripe_price_id": "price_new",
            "is_public": "on",
        },
    )
    assert response.status_code == 302
    pro.refresh_from_db()
    assert (pro.price_cents, pro.stripe_price_id, pro.code) == (1200, "price_new", "pro")


# --------------------------------------------------------------------------- nightly task


@pytest.mark.django_db
def test_nightly_task_ends_manual_plans_past_their_end_date(plans):
    user, keeps = UserFactory(role=Role.PRO), UserFactory(role=Role.PRO)
    pro = Plan.objects.get(code="pro")
    SubscriptionFactory(user=user, plan=pro, current_period_end=timezone.now() - timedelta(hours=1))
    SubscriptionFactory(user=keeps, plan=pro, current_period_end=timezone.now() + timedelta(days=3))

    assert tasks.reconcile.apply().get() == {"manual_ended": 1, "seen": 0, "applied": 0}

    user.refresh_from_db(), keeps.refresh_from_db()
    assert (user.role, keeps.role) == (Role.FREE, Role.PRO)


@pytest.mark.django_db
def test_after_a_downgrade_over_the_storage_quota_uploads_are_refused_and_data_kept(
    client, plans, tmp_path
):
    from billing.services import subscription_assign, subscription_manual_delete
    from tests import audio
    from tests.factories import upload_file

    user = UserFactory()
    subscription = subscription_assign(user=user, plan=Plan.objects.get(code="pro"), actor=None)
    kick = audio.write(tmp_path / "kick.wav", audio.kick())
    kept = upload_file(client, user, kick).json()
    SampleFactory(owner=user, size_bytes=150 * 1024**2)  # over free's 100 MB

    subscription_manual_delete(subscription=subscription, actor=None)
    user.refresh_from_db()
    assert user.role == Role.FREE

    refused = upload_file(client, user, audio.write(tmp_path / "snare.wav", audio.snare()))
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["details"]["quota"] == "storage_bytes"
    assert "storage is free. Delete samples or upgrade." in error["message"]
    download = client.get(f"/api/v1/audio/{kept['id']}/download", **bearer(user))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == kick.read_bytes()
    assert client.get("/api/v1/audio/", **bearer(user)).json()["count"] == 2
