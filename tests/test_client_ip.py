"""The client's address behind a reverse proxy: audit log, API key allowlists, rate limits.

With no trusted proxies (the default) a client-sent X-Forwarded-For changes
nothing; with ``SAMPLEMIND_TRUSTED_PROXIES=1`` the right-most entry, written
by the proxy, is the client.
"""

import pytest
from django.test import override_settings

from accounts.models import AuditLog, Role
from accounts.services import api_key_create
from tests.factories import UserFactory, api_key_headers

ME = "/api/v1/auth/me"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
PROXY = "10.0.0.1"


def _wrong_login(client, email, **meta):
    return client.post(
        LOGIN, {"email": email, "password": "wrong"}, content_type="application/json", **meta
    )


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_forwarded_for_is_not_logged_as_the_address(client):
    user = UserFactory()

    _wrong_login(client, user.email, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="1.2.3.4")

    entry = AuditLog.objects.get(action="login.failed", actor_email=user.email)
    assert entry.ip_address == "203.0.113.5"


@pytest.mark.django_db
def test_without_trusted_proxies_rotating_forwarded_for_does_not_escape_the_anonymous_limit(
    client,
):
    statuses = [
        client.post(
            REFRESH,
            {"refresh": "x"},
            content_type="application/json",
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(31)
    ]

    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_forwarded_for_does_not_pass_a_key_allowlist(client):
    owner = UserFactory(role=Role.PRO)
    _, secret = api_key_create(owner=owner, name="office", allowed_cidrs=["10.20.0.0/16"])

    forged = client.get(
        ME, REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="10.20.3.4", **api_key_headers(secret)
    )

    assert forged.status_code == 403


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_right_most_forwarded_address_is_audited(client):
    user = UserFactory()

    # The client forged the first entry; the proxy appended the address it really saw.
    _wrong_login(client, user.email, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")

    entry = AuditLog.objects.get(action="login.failed", actor_email=user.email)
    assert entry.ip_address == "203.0.113.5"


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_key_allowlist_checks_the_client_not_the_proxy(client):
    owner = UserFactory(role=Role.PRO)
    _, secret = api_key_create(owner=owner, name="office", allowed_cidrs=["10.20.0.0/16"])

    inside = client.get(
        ME, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.20.3.4", **api_key_headers(secret)
    )
    outside = client.get(
        ME,
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="10.20.3.4, 192.0.2.7",
        **api_key_headers(secret),
    )

    assert inside.status_code == 200
    assert outside.status_code == 403


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_clients_have_their_own_anonymous_limit(client):
    def refresh(address):
        return client.post(
            REFRESH,
            {"refresh": "x"},
            content_type="application/json",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=address,
        ).status_code

    first = [refresh("203.0.113.1") for _ in range(31)]
    second = refresh("203.0.113.2")

    assert first[30] == 429
    assert second == 401


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_sign_up_limit_per_address_counts_each_client(client):
    # django-ratelimit allows ten sign-ups an hour from one address.
    def register(n, address):
        return client.post(
            "/api/v1/auth/register",
            {"email": f"new{n}@example.com", "password": "correct-horse-battery"},
            content_type="application/json",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=address,
        ).status_code

    first = [register(n, "203.0.113.1") for n in range(11)]
    second = register(99, "203.0.113.2")

    assert first == [201] * 10 + [429]
    assert second == 201
