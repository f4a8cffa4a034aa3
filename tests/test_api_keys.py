"""API keys: shown once, stored hashed, scoped (everywhere), expiring, network-bound, revocable."""

import io
import logging
from datetime import timedelta

import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from psycopg import sql
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import ApiKey, AuditLog, Role
from accounts.services import api_key_create, rate_limit_override_set
from library.models import Collection, Sample
from tests import audio
from tests.factories import (
    BatchJobFactory,
    CollectionFactory,
    SampleFactory,
    UserFactory,
    api_key_headers,
    bearer,
)

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
    # The key's cap is within the account's budget, which still has room for the owner.
    assert client.get(ME, **bearer(pro)).status_code == 200


@pytest.mark.django_db
def test_several_keys_share_the_accounts_budget_instead_of_multiplying_it(client, pro):
    admin = UserFactory(role=Role.ADMIN)
    rate_limit_override_set(user=pro, api_requests_per_minute=5, actor=admin)
    first = api_key_headers(api_key_create(owner=pro, name="one", rate_limit_per_minute=4)[1])
    second = api_key_headers(api_key_create(owner=pro, name="two", rate_limit_per_minute=4)[1])

    used = [client.get(ME, **first).status_code for _ in range(3)]
    used += [client.get(ME, **second).status_code for _ in range(2)]
    over_by_key = client.get(ME, **second)
    over_by_jwt = client.get(ME, **bearer(pro))

    assert used == [200] * 5
    assert over_by_key.status_code == 429
    assert int(over_by_key["Retry-After"]) > 0
    assert over_by_jwt.status_code == 429


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
            query = sql.SQL("SELECT count(*) FROM {} t WHERE t::text LIKE %s").format(
                sql.Identifier(table)
            )
            cursor.execute(query.as_string(connection.connection), [f"%{token}%"])
            assert cursor.fetchone()[0] == 0, f"the secret is stored in {table}"


def _wav() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio.tone(440, seconds=0.2), audio.SR, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _key(owner, *scopes):
    return api_key_headers(api_key_create(owner=owner, name="narrow", scopes=list(scopes))[1])


@pytest.mark.django_db
def test_an_upload_only_key_cannot_publish_what_it_uploads(client, pro):
    key = _key(pro, "audio:upload")

    def upload(visibility):
        wav = SimpleUploadedFile(f"{visibility}.wav", _wav())
        return client.post("/api/v1/audio/upload", {"file": wav, "visibility": visibility}, **key)

    public = upload("public")
    private = upload("private")

    assert public.status_code == 403
    assert "audio:share" in public.json()["error"]["message"]
    assert private.status_code == 201
    assert list(Sample.objects.filter(owner=pro).values_list("visibility", flat=True)) == [
        "private"
    ]


@pytest.mark.django_db
def test_an_edit_only_key_cannot_make_a_sample_public_though_the_owner_can(client, pro):
    sample = SampleFactory(owner=pro)
    url = f"/api/v1/audio/{sample.pk}"

    by_key = client.patch(
        url, {"visibility": "public"}, content_type="application/json", **_key(pro, "audio:edit")
    )
    sample.refresh_from_db()
    still_private = sample.visibility
    by_owner = client.patch(
        url, {"visibility": "public"}, content_type="application/json", **bearer(pro)
    )

    assert by_key.status_code == 403
    assert still_private == "private"
    assert by_owner.status_code == 200


@pytest.mark.django_db
def test_collection_keys_without_collection_share_cannot_publish_collections(client, pro):
    created = client.post(
        "/api/v1/collections",
        {"name": "Drums", "visibility": "public"},
        content_type="application/json",
        **_key(pro, "collection:create"),
    )
    own = CollectionFactory(owner=pro, name="Mine")
    changed = client.patch(
        f"/api/v1/collections/{own.pk}",
        {"visibility": "public"},
        content_type="application/json",
        **_key(pro, "collection:edit"),
    )

    assert created.status_code == 403
    assert not Collection.objects.filter(name="Drums").exists()
    assert changed.status_code == 403
    own.refresh_from_db()
    assert own.visibility == "private"


@pytest.mark.django_db
def test_a_key_without_scopes_reads_nothing_but_whose_key_it_is(client, pro):
    sample = SampleFactory(owner=pro)
    collection = CollectionFactory(owner=pro, name="Mine")
    batch = BatchJobFactory(owner=pro, kind="upload", total=0)
    key = _key(pro)

    refused = [
        client.get(url, **key)
        for url in (
            "/api/v1/audio/",
            f"/api/v1/audio/{sample.pk}",
            f"/api/v1/audio/{sample.pk}/preview",
            f"/api/v1/audio/batch/{batch.pk}",
            "/api/v1/collections",
            f"/api/v1/collections/{collection.pk}",
        )
    ]

    assert [r.status_code for r in refused] == [403] * 6
    assert {r.json()["error"]["code"] for r in refused} == {"permission_denied"}
    assert sample.name not in b"".join(r.content for r in refused).decode()
    assert client.get(ME, **key).json()["email"] == pro.email


@pytest.mark.django_db
def test_reading_the_library_takes_a_search_or_download_scope(client, pro):
    sample = SampleFactory(owner=pro)
    batch = BatchJobFactory(owner=pro, kind="upload", total=0)
    search_key = _key(pro, "search:basic")
    upload_key = _key(pro, "audio:upload")

    listed = client.get("/api/v1/audio/", **search_key)
    detail = client.get(f"/api/v1/audio/{sample.pk}", **_key(pro, "audio:download"))

    assert [item["id"] for item in listed.json()["results"]] == [str(sample.pk)]
    assert detail.status_code == 200
    assert client.get(f"/api/v1/audio/batch/{batch.pk}", **upload_key).status_code == 200
    assert client.get("/api/v1/audio/", **upload_key).status_code == 403


@pytest.mark.django_db
def test_even_a_full_key_cannot_change_the_profile_sign_out_or_touch_billing(client, pro):
    _, secret = api_key_create(owner=pro, name="everything")
    key = api_key_headers(secret)
    refresh = str(RefreshToken.for_user(pro))

    rename = client.patch(ME, {"display_name": "Mallory"}, content_type="application/json", **key)
    logout = client.post(
        "/api/v1/auth/logout", {"refresh": refresh}, content_type="application/json", **key
    )
    billing = client.get("/api/v1/billing/subscription", **key)

    assert [rename.status_code, logout.status_code, billing.status_code] == [403, 403, 403]
    pro.refresh_from_db()
    assert pro.display_name != "Mallory"
    assert client.get(ME, **key).status_code == 200


@pytest.mark.django_db
def test_a_key_can_only_make_keys_with_scopes_it_has_itself(client, pro):
    key = _key(pro, "api:keys", "search:basic")

    wider = client.post(
        KEYS, {"name": "wider", "scopes": ["audio:delete"]}, content_type="application/json", **key
    )
    default = client.post(KEYS, {"name": "default"}, content_type="application/json", **key)

    assert wider.status_code == 400
    assert "audio:delete" in wider.json()["error"]["message"]
    assert default.status_code == 201
    assert default.json()["scopes"] == ["api:keys", "search:basic"]


@pytest.mark.django_db
def test_a_key_without_a_scope_is_told_the_key_lacks_it_not_the_plan(client, pro):
    key = _key(pro, "search:basic")

    upload = client.post("/api/v1/audio/upload", {}, **key)
    delete = client.delete(f"/api/v1/audio/{SampleFactory(owner=pro).pk}", **key)
    free = UserFactory(role=Role.FREE)
    planned = client.post("/api/v1/audio/batch", {}, **_key(free, "audio:upload"))

    assert upload.status_code == 403
    assert upload.json()["error"]["message"].startswith("This API key lacks the scope audio:upload")
    assert "plan" not in upload.json()["error"]["message"].split(";")[0]
    assert delete.status_code == 403
    assert "This API key lacks the scope audio:delete" in delete.json()["error"]["message"]
    # Without the permission in the plan, the plan is what to change.
    assert planned.json()["error"]["message"] == "Your plan does not include audio:batch."
