"""Security baseline: headers, CSP, HSTS and cookies, markup cleaning, per-role throttles."""

import html
import re

import pytest
from django.conf import settings as django_settings

from accounts.models import Role
from accounts.rbac import ROLE_QUOTAS
from samplemind.text import plain_text, safe_html
from tests.factories import CollectionFactory, SampleFactory, UserFactory, bearer


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
        # Typed as entities it is text, not a tag: stored as such, escaped wherever shown.
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("Bass & Sub 808", "Bass & Sub 808"),
        ("a < b", "a < b"),
        ("Kick > Snare", "Kick > Snare"),
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


@pytest.mark.django_db
def test_a_description_shows_once_escaped_on_the_pages_and_as_clean_html_in_the_api(client):
    owner = UserFactory(role=Role.PRO)
    sample = SampleFactory(owner=owner)
    collection = CollectionFactory(owner=owner, name="Low end")
    typed = "Bass & Sub <b>heavy</b> a < b<script>steal()</script>"
    api = bearer(owner)
    client.patch(
        f"/api/v1/audio/{sample.pk}", {"description": typed}, content_type="application/json", **api
    )
    client.patch(
        f"/api/v1/collections/{collection.pk}",
        {"description": typed},
        content_type="application/json",
        **api,
    )
    client.force_login(owner)

    shown = "Bass &amp; Sub <b>heavy</b> a &lt; b"
    from_api = client.get(f"/api/v1/audio/{sample.pk}", **api).json()["description"]
    sample_page = client.get(f"/library/samples/{sample.pk}/").content.decode()
    collection_page = client.get(f"/library/collections/{collection.pk}/").content.decode()

    # In the API: the cleaned HTML, which a client renders as HTML.
    assert from_api == shown
    for page in (sample_page, collection_page):
        # A browser shows "Bass & Sub heavy a < b", with "heavy" in bold.
        assert f'<div class="description">{shown}</div>' in page
        assert "&amp;amp;" not in page
        assert "steal()" not in page
    # The owner's edit box holds what they typed, without the script; saving it changes nothing.
    box = re.search(r'<textarea name="description"[^>]*>(.*?)</textarea>', sample_page, re.S)
    assert html.unescape(box.group(1)).strip() == "Bass & Sub <b>heavy</b> a < b"
    assert safe_html(html.unescape(box.group(1)).strip()) == shown


@pytest.mark.django_db
def test_markup_in_a_name_is_text_escaped_on_every_page_and_plain_in_the_api(client):
    owner = UserFactory(role=Role.PRO)
    sample = SampleFactory(owner=owner)
    collection = CollectionFactory(owner=owner, name="Mine")
    collection.items.create(sample=sample, position=0)
    typed = "&lt;script&gt;alert(1)&lt;/script&gt; a < b"
    client.patch(
        f"/api/v1/audio/{sample.pk}",
        {"name": typed},
        content_type="application/json",
        **bearer(owner),
    )
    client.force_login(owner)

    from_api = client.get(f"/api/v1/audio/{sample.pk}", **bearer(owner)).json()["name"]
    pages = [
        client.get(path).content.decode()
        for path in (
            "/library/",
            f"/library/samples/{sample.pk}/",
            f"/library/collections/{collection.pk}/",
        )
    ]

    assert from_api == "<script>alert(1)</script> a < b"  # JSON text, as typed
    for page in pages:
        assert "<script>alert(1)" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt; a &lt; b" in page
