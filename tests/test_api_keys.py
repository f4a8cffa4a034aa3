"""API keys: shown once, stored hashed, scoped, expiring, network-bound, revocable."""

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import ApiKey, AuditLog, Role
from accounts.services import api_key_create
from tests.factories import UserFactory, api_key_headers, bearer

KEYS = "/api/v1/auth/api-keys"
ME = "/api/v1/auth/me"


def _create(client, user, **fields):
    body = {"name": "ci script", **fields}
    return client.post(KEYS, body, content_type="application/json", **bearer(user))


@pytest.fixture
def pro():
    return UserFactory(role=Role.PRO)


@pytest.mark.django_db
def test_created_key_is_shown_once_and_then_authenticates(client, pro):
    created = _create(client, pro)

    assert created.status_code == 201, created.json()
    secret = created.json()["key"]
    assert secret.startswith("sm_live_")
    assert created.json()["prefix"] == secret[:12]
    listed = client.get(KEYS, **bearer(pro)).json()["results"]
    assert [key["name"] for key in listed] == ["ci script"]
    assert "key" not in listed[0]
    me = client.get(ME, **api_key_headers(secret))
    assert me.status_code == 200
    assert me.json()["email"] == pro.email
    assert ApiKey.objects.get().last_used_at is not None


@pytest.mark.django_db
def test_free_role_cannot_create_keys(client):
    response = _create(client, UserFactory(role=Role.FREE))

    assert response.status_code == 403
    assert "api:keys" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_scopes_cannot_exceed_the_owners_permissions(client, pro):
    response = _create(client, pro, scopes=["audio:upload", "admin:users"])

    assert response.status_code == 400
    assert "admin:users" in response.json()["error"]["message"]
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_a_key_without_the_api_keys_scope_cannot_manage_keys(client, pro):
    _, secret = api_key_create(owner=pro, name="read only", scopes=["search:basic"])

    listing = client.get(KEYS, **api_key_headers(secret))
    profile = client.get(ME, **api_key_headers(secret))

    assert listing.status_code == 403
    assert profile.status_code == 200


@pytest.mark.django_db
def test_revoked_key_is_refused(client, pro):
    secret = _create(client, pro).json()["key"]
    key_id = ApiKey.objects.get().pk

    revoke = client.delete(f"{KEYS}/{key_id}", **bearer(pro))
    after = client.get(ME, **api_key_headers(secret))

    assert revoke.status_code == 204
    assert after.status_code == 401
    assert after.json()["error"]["message"] == "This API key has been revoked."
    assert AuditLog.objects.filter(action="api_key.revoked", target_id=str(key_id)).exists()


@pytest.mark.django_db
def test_expired_key_is_refused(client, pro):
    key, secret = api_key_create(
        owner=pro, name="short", expires_at=timezone.now() + timedelta(minutes=1)
    )
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.get(ME, **api_key_headers(secret))

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This API key has expired."


@pytest.mark.django_db
def test_key_is_refused_outside_its_network_allowlist(client, pro):
    _, secret = api_key_create(owner=pro, name="office", allowed_cidrs=["10.20.0.0/16"])

    outside = client.get(ME, REMOTE_ADDR="192.0.2.7", **api_key_headers(secret))
    inside = client.get(ME, REMOTE_ADDR="10.20.3.4", **api_key_headers(secret))

    assert outside.status_code == 403
    assert "address" in outside.json()["error"]["message"]
    assert inside.status_code == 200


@pytest.mark.django_db
def test_invalid_cidr_is_a_clear_400(client, pro):
    response = _create(client, pro, allowed_cidrs=["not-a-network"])

    assert response.status_code == 400
    assert "not-a-network" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_made_up_and_malformed_keys_are_401(client):
    made_up = client.get(ME, **api_key_headers("sm_live_doesnotexist"))
    malformed = client.get(ME, HTTP_AUTHORIZATION="Api-Key")

    assert made_up.status_code == 401
    assert made_up.json()["error"]["message"] == "Invalid API key."
    assert malformed.status_code == 401


@pytest.mark.django_db
def test_a_key_with_its_own_rate_limit_gets_429_with_retry_after(client, pro):
    _, secret = api_key_create(owner=pro, name="slow", rate_limit_per_minute=2)

    statuses = [client.get(ME, **api_key_headers(secret)).status_code for _ in range(3)]
    last = client.get(ME, **api_key_headers(secret))

    assert statuses == [200, 200, 429]
    assert int(last["Retry-After"]) > 0
    assert client.get(ME, **bearer(pro)).status_code == 200  # the owner's own budget is separate


@pytest.mark.django_db
def test_nobody_sees_or_revokes_another_users_key(client, pro):
    other = UserFactory(role=Role.PRO)
    key, secret = api_key_create(owner=other, name="theirs")

    listed = client.get(KEYS, **bearer(pro)).json()["results"]
    detail = client.get(f"{KEYS}/{key.pk}", **bearer(pro))
    revoke = client.delete(f"{KEYS}/{key.pk}", **bearer(pro))

    assert listed == []
    assert detail.status_code == 404
    assert revoke.status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
    assert client.get(ME, **api_key_headers(secret)).status_code == 200


@pytest.mark.django_db
def test_secret_appears_nowhere_in_database_logs_or_admin(client, pro, caplog):
    admin = UserFactory(role=Role.ADMIN, is_superuser=True)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        secret = _create(client, pro).json()["key"]
        client.get(ME, **api_key_headers(secret))
        key = ApiKey.objects.get()
        client.force_login(admin)
        pages = [
            client.get("/admin/accounts/apikey/").content.decode(),
            client.get(f"/admin/accounts/apikey/{key.pk}/change/").content.decode(),
            client.get("/admin/accounts/auditlog/").content.decode(),
        ]
    finally:
        connection.force_debug_cursor = False

    token = secret.removeprefix("sm_live_")
    assert "SELECT" in caplog.text  # statements were logged, so the check below means something
    assert token not in caplog.text
    assert all(token not in page for page in pages)
    assert key.prefix in pages[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        tables = [name for (name,) in cursor.fetchall()]
        for table in tables:
            query = f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s'  # noqa: S608
            cursor.execute(query, [f"%{token}%"])
            assert cursor.fetchone()[0] == 0, f"the secret is stored in {table}"
