"""The administration API: users, analytics, audit log, per-account rate limits."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog, Role
from library.models import AnalysisResult
from tests.factories import SampleFactory, UserFactory, bearer

ADMIN = "/api/v1/admin"


@pytest.fixture
def admin():
    return UserFactory(role=Role.ADMIN)


@pytest.mark.django_db
def test_users_are_listed_with_usage_and_can_be_filtered_and_searched(client, admin):
    pro = UserFactory(email="beats@studio.example", role=Role.PRO, display_name="Zyxq Beats")
    SampleFactory.create_batch(2, owner=pro, size_bytes=1500)
    UserFactory.create_batch(3, role=Role.FREE)

    pros = client.get(f"{ADMIN}/users", {"role": "pro"}, **bearer(admin)).json()
    found = client.get(f"{ADMIN}/users", {"q": "zyxq"}, **bearer(admin)).json()
    page = client.get(f"{ADMIN}/users", {"page_size": 2}, **bearer(admin)).json()

    assert [u["email"] for u in pros["results"]] == ["beats@studio.example"]
    assert pros["results"][0]["sample_count"] == 2
    assert pros["results"][0]["storage_bytes"] == 3000
    assert [u["email"] for u in found["results"]] == ["beats@studio.example"]
    assert page["count"] == 5 and len(page["results"]) == 2


@pytest.mark.django_db
def test_analytics_report_users_uploads_storage_and_analysis(client, admin):
    owner = UserFactory(role=Role.PRO)
    ok = SampleFactory(owner=owner, size_bytes=2000)
    bad = SampleFactory(owner=owner, size_bytes=500, status="failed")
    AnalysisResult.objects.create(sample=ok, analyzer_version="1", status="ready")
    AnalysisResult.objects.create(sample=bad, analyzer_version="1", status="failed")

    body = client.get(f"{ADMIN}/analytics", **bearer(admin)).json()

    assert body["users_per_role"] == {"admin": 1, "pro": 1}
    assert sum(body["uploads_per_day"].values()) == 2
    assert body["storage"] == {"bytes": 2500, "samples": 2}
    assert body["analysis"]["failure_rate_24h"] == 0.5
    assert body["analysis"]["status_counts"] == {"ready": 1, "failed": 1}
    assert set(body["analysis"]["queue_depth"]) == {"analysis", "celery"}
    assert len(body["search_volume"]) == 7
    assert "rate" in body["cache"]


@pytest.mark.django_db
def test_analytics_count_searches_from_the_api_and_the_search_page(client, admin):
    searcher = UserFactory(role=Role.PRO)
    SampleFactory(owner=searcher, name="Dusty Kick")

    before = client.get(f"{ADMIN}/analytics", **bearer(admin)).json()["search_volume"]
    client.get("/api/v1/search", {"q": "kick"}, **bearer(searcher))
    client.get("/api/v1/search", {"q": "kick"}, **bearer(searcher))  # a cached answer counts too
    client.force_login(searcher)
    client.get("/search/", {"q": "dusty"})
    client.get("/search/")  # the empty page is not a search
    after = client.get(f"{ADMIN}/analytics", **bearer(admin)).json()["search_volume"]

    today = max(after)
    assert list(after.values())[-1] == after[today]
    assert after[today] - before.get(today, 0) == 3


@pytest.mark.django_db
def test_audit_log_is_filterable(client, admin):
    AuditLog.objects.create(
        action="login.failed", actor_email="x@example.com", ip_address="10.0.0.9"
    )
    AuditLog.objects.create(action="login.succeeded", actor_email="y@example.com")
    AuditLog.objects.create(action="api_key.created", actor_email="y@example.com")

    logins = client.get(f"{ADMIN}/audit-logs", {"action_prefix": "login."}, **bearer(admin)).json()
    by_ip = client.get(f"{ADMIN}/audit-logs", {"ip_address": "10.0.0.9"}, **bearer(admin)).json()

    assert {e["action"] for e in logins["results"]} == {"login.failed", "login.succeeded"}
    assert [e["actor_email"] for e in by_ip["results"]] == ["x@example.com"]


@pytest.mark.django_db
def test_rate_limit_override_changes_what_the_user_gets(client, admin):
    free = UserFactory(role=Role.FREE)  # 10 requests a minute by role

    before = client.get(f"{ADMIN}/rate-limits", {"user_id": free.pk}, **bearer(admin)).json()
    set_response = client.post(
        f"{ADMIN}/rate-limits",
        {"user_id": free.pk, "api_requests_per_minute": 3, "reason": "abuse <b>report</b>"},
        content_type="application/json",
        **bearer(admin),
    )
    statuses = [client.get("/api/v1/auth/me", **bearer(free)).status_code for _ in range(4)]

    assert before["effective_limit_per_minute"] == 10 and before["override"] is None
    assert set_response.json()["effective_limit_per_minute"] == 3
    assert set_response.json()["override"]["reason"] == "abuse report"
    assert statuses == [200, 200, 200, 429]
    assert AuditLog.objects.filter(action="rate_limit.overridden", target_id=str(free.pk)).exists()

    reset = client.post(
        f"{ADMIN}/rate-limits",
        {"user_id": free.pk, "api_requests_per_minute": None, "reset": True},
        content_type="application/json",
        **bearer(admin),
    )
    assert reset.json()["effective_limit_per_minute"] == 10


@pytest.mark.django_db
def test_rate_limits_need_a_numeric_user_id(client, admin):
    response = client.get(f"{ADMIN}/rate-limits", {"user_id": "1 OR 1=1"}, **bearer(admin))

    assert response.status_code == 400
    assert "user_id" in response.json()["error"]["details"]
