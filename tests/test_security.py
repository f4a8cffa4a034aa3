"""Security baseline: headers, CSP, HSTS and cookies, markup cleaning, per-role throttles."""

import pytest
from django.conf import settings as django_settings

from accounts.models import Role
from accounts.rbac import ROLE_QUOTAS
from samplemind.text import plain_text, safe_html
from tests.factories import UserFactory, bearer


@pytest.mark.django_db
def test_pages_send_the_security_headers(client):
    response = client.get("/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


@pytest.mark.django_db
def test_https_responses_carry_hsts_when_not_in_debug(client):
    assert django_settings.DEBUG is False

    response = client.get("/", secure=True)

    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_and_session_is_http_only(client):
    UserFactory(email="cookie@example.com", role=Role.ADMIN)
    page = client.get("/admin/login/", secure=True)
    token = page.cookies["csrftoken"].value

    response = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "cookie@example.com",
            "password": "correct-horse-battery",
            "csrfmiddlewaretoken": token,
        },
        secure=True,
        HTTP_REFERER="https://testserver/admin/login/",
    )

    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True
    assert page.cookies["csrftoken"]["secure"] is True


@pytest.mark.django_db
def test_admin_login_form_refuses_a_post_without_csrf_token():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    UserFactory(email="x@example.com", role=Role.ADMIN)

    response = client.post(
        "/admin/login/", {"username": "x@example.com", "password": "correct-horse-battery"}
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("<script>alert('x')</script>Deep Kick", "Deep Kick"),
        ("<img src=x onerror=alert(1)>Snare", "Snare"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "scriptalert(1)/script"),
        ("Bass & Sub 808", "Bass & Sub 808"),
        ("Tab\there\x00\x07", "Tab\there"),
    ],
)
def test_plain_text_keeps_words_and_drops_markup(typed, stored):
    assert plain_text(typed) == stored


def test_safe_html_keeps_the_allowlist_and_neutralises_the_rest():
    cleaned = safe_html(
        '<p onclick="steal()">Warm <b>pad</b> <a href="javascript:alert(1)">x</a> '
        '<a href="https://example.com">pack</a><script>bad()</script><iframe src=x></iframe></p>'
    )

    assert cleaned == (
        '<p>Warm <b>pad</b> <a>x</a> <a href="https://example.com" rel="nofollow">pack</a></p>'
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.FREE, Role.PRO])
def test_requests_beyond_the_roles_per_minute_quota_get_429(client, role):
    user = UserFactory(role=role)
    limit = ROLE_QUOTAS[role].api_requests_per_minute

    statuses = [client.get("/api/v1/auth/me", **bearer(user)).status_code for _ in range(limit + 1)]

    assert statuses[:limit] == [200] * limit
    assert statuses[limit] == 429


@pytest.mark.django_db
def test_admin_role_is_not_throttled(client):
    admin = UserFactory(role=Role.ADMIN)

    statuses = {client.get("/api/v1/auth/me", **bearer(admin)).status_code for _ in range(40)}

    assert statuses == {200}


@pytest.mark.django_db
def test_anonymous_clients_are_throttled_per_address(client):
    statuses = [
        client.post("/api/v1/auth/refresh", {"refresh": "x"}, content_type="application/json")
        for _ in range(31)
    ]

    assert {r.status_code for r in statuses[:30]} == {401}
    assert statuses[30].status_code == 429
    assert int(statuses[30]["Retry-After"]) > 0
