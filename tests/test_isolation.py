"""Nobody sees or changes another person's things: every object type, every action.

A victim owns a private sample, a public sample, a private and a public
collection, a batch job and an API key. Another signed-in account (with a
JWT, an API key carrying every scope of its role, or a browser session) tries
every endpoint and page on them. Private things answer 404, exactly as if they
did not exist; public things can be read but never changed (403). Afterwards
every object is as it was.
"""

from __future__ import annotations

import uuid

import pytest
from django.core.files.base import ContentFile

from accounts.models import ApiKey, Role
from accounts.services import api_key_create
from library.models import BatchJob, Collection, Sample
from tests.factories import (
    BatchJobFactory,
    CollectionFactory,
    SampleFactory,
    UserFactory,
    api_key_headers,
    bearer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim():
    owner = UserFactory(role=Role.PRO, email="victim@example.com")
    private = SampleFactory(owner=owner, name="Secret Kick", tags=["mine"])
    private.preview.save("p.ogg", ContentFile(b"OggS"), save=True)
    public = SampleFactory(owner=owner, name="Shared Snare", visibility="public")
    hidden = CollectionFactory(owner=owner, name="Unreleased")
    hidden.items.create(sample=private, position=0)
    hidden.items.create(sample=public, position=1)
    shown = CollectionFactory(owner=owner, name="Showcase", visibility="public")
    shown.items.create(sample=public, position=0)
    batch = BatchJobFactory(owner=owner, kind="upload", total=1)
    key, _ = api_key_create(owner=owner, name="victim's key")
    return {
        "owner": owner,
        "sample": private,
        "public_sample": public,
        "collection": hidden,
        "public_collection": shown,
        "batch": batch,
        "key": key,
    }


@pytest.fixture
def mallory():
    return UserFactory(role=Role.PRO, email="mallory@example.com")


@pytest.fixture(params=["jwt", "api_key"])
def as_mallory(request, mallory):
    """Request headers for the other account, signed in either way the API accepts."""
    if request.param == "jwt":
        return bearer(mallory)
    _, secret = api_key_create(owner=mallory, name="all scopes")
    return api_key_headers(secret)


def _snapshot(victim) -> dict:
    sample = Sample.objects.get(pk=victim["sample"].pk)
    public = Sample.objects.get(pk=victim["public_sample"].pk)
    collections = {
        c.pk: (c.name, c.visibility, [i.sample_id for i in c.items.order_by("position")])
        for c in Collection.objects.filter(owner=victim["owner"])
    }
    key = ApiKey.objects.get(pk=victim["key"].pk)
    return {
        "sample": (sample.name, sample.visibility, sample.tags, sample.status),
        "public_sample": (public.name, public.visibility, public.tags),
        "collections": collections,
        "key_revoked": key.revoked_at,
        "batch": BatchJob.objects.filter(pk=victim["batch"].pk).exists(),
    }


PRIVATE_API_REQUESTS = [
    ("get", "/api/v1/audio/{sample}", None),
    ("put", "/api/v1/audio/{sample}", {"name": "Mine now", "tags": []}),
    ("patch", "/api/v1/audio/{sample}", {"visibility": "public"}),
    ("delete", "/api/v1/audio/{sample}", None),
    ("get", "/api/v1/audio/{sample}/download", None),
    ("get", "/api/v1/audio/{sample}/preview", None),
    ("post", "/api/v1/audio/{sample}/reanalyze", None),
    ("get", "/api/v1/audio/{sample}/similar", None),
    ("get", "/api/v1/audio/batch/{batch}", None),
    ("get", "/api/v1/collections/{collection}", None),
    ("patch", "/api/v1/collections/{collection}", {"name": "Mine now"}),
    ("put", "/api/v1/collections/{collection}", {"name": "Mine now"}),
    ("delete", "/api/v1/collections/{collection}", None),
    (
        "put",
        "/api/v1/collections/{collection}/order",
        {"sample_ids": ["{public_sample}", "{sample}"]},
    ),
    ("get", "/api/v1/collections/{collection}/download", None),
    ("post", "/api/v1/collections/{collection}/samples", {"sample_ids": ["{public_sample}"]}),
    ("delete", "/api/v1/collections/{collection}/samples", {"sample_ids": ["{sample}"]}),
    ("get", "/api/v1/auth/api-keys/{key}", None),
    ("delete", "/api/v1/auth/api-keys/{key}", None),
]

PUBLIC_API_CHANGES = [
    ("put", "/api/v1/audio/{public_sample}", {"name": "Mine now", "tags": []}),
    ("patch", "/api/v1/audio/{public_sample}", {"visibility": "private"}),
    ("delete", "/api/v1/audio/{public_sample}", None),
    ("patch", "/api/v1/collections/{public_collection}", {"name": "Mine now"}),
    ("put", "/api/v1/collections/{public_collection}", {"name": "Mine now"}),
    ("delete", "/api/v1/collections/{public_collection}", None),
    ("put", "/api/v1/collections/{public_collection}/order", {"sample_ids": ["{public_sample}"]}),
    ("post", "/api/v1/collections/{public_collection}/samples", {"sample_ids": ["{sample}"]}),
    (
        "delete",
        "/api/v1/collections/{public_collection}/samples",
        {"sample_ids": ["{public_sample}"]},
    ),
]


def _ids(victim) -> dict:
    return {name: str(getattr(obj, "pk", "")) for name, obj in victim.items()}


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _call(client, method, path, body, headers):
    return getattr(client, method)(path, data=body, content_type="application/json", **headers)


@pytest.mark.parametrize(("method", "path", "body"), PRIVATE_API_REQUESTS, ids=lambda v: str(v))
def test_another_users_private_things_are_404_on_the_api(
    client, victim, as_mallory, method, path, body
):
    before = _snapshot(victim)
    ids = _ids(victim)

    response = _call(client, method, _fill(path, ids), _fill(body, ids), as_mallory)

    assert response.status_code == 404, response.content[:300]
    assert response.json()["error"]["code"] == "not_found"
    assert "Secret Kick" not in response.content.decode()
    assert _snapshot(victim) == before


@pytest.mark.parametrize(("method", "path", "body"), PUBLIC_API_CHANGES, ids=lambda v: str(v))
def test_another_users_public_things_cannot_be_changed_on_the_api(
    client, victim, as_mallory, method, path, body
):
    before = _snapshot(victim)
    ids = _ids(victim)

    response = _call(client, method, _fill(path, ids), _fill(body, ids), as_mallory)

    assert response.status_code == 403, response.content[:300]
    assert _snapshot(victim) == before


def test_another_users_private_sample_ids_cannot_be_added_to_your_collection(
    client, victim, mallory
):
    own = CollectionFactory(owner=mallory, name="Loot")
    url = f"/api/v1/collections/{own.pk}/samples"

    foreign = _call(
        client, "post", url, {"sample_ids": [str(victim["sample"].pk)]}, bearer(mallory)
    )
    made_up = _call(client, "post", url, {"sample_ids": [str(uuid.uuid4())]}, bearer(mallory))

    assert foreign.status_code == 400
    # The same answer as for an id that does not exist: nothing tells them it does.
    assert foreign.json()["error"]["message"] == made_up.json()["error"]["message"]
    assert own.items.count() == 0


def test_lists_and_search_never_show_another_users_private_samples(client, victim, as_mallory):
    SampleFactory(owner=UserFactory(), name="Secret Kick decoy", visibility="private")

    listed = client.get("/api/v1/audio/", **as_mallory).json()["results"]
    collections = client.get("/api/v1/collections?scope=public", **as_mallory).json()["results"]
    found = client.get("/api/v1/search?q=secret", **as_mallory).json()["results"]

    assert listed == []
    assert [c["name"] for c in collections] == ["Showcase"]
    assert "Secret Kick" not in str(found)


# --------------------------------------------------------------------------- pages


@pytest.fixture
def browser(client, mallory):
    client.force_login(mallory)
    return client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/library/samples/{sample}/"),
        ("get", "/library/samples/{sample}/preview"),
        ("get", "/library/samples/{sample}/status"),
        ("get", "/library/samples/{sample}/similar"),
        ("post", "/library/samples/{sample}/collect"),
        ("get", "/library/collections/{collection}/"),
        ("post", "/library/collections/{collection}/order"),
        ("post", "/library/collections/{public_collection}/order"),
        ("post", "/account/api-keys/{key}/revoke"),
    ],
    ids=lambda v: str(v),
)
def test_another_users_private_things_are_404_on_the_pages(browser, victim, method, path):
    before = _snapshot(victim)
    ids = _ids(victim)

    response = getattr(browser, method)(
        path.format(**ids),
        {"collection": victim["collection"].pk, "sample": [ids["public_sample"], ids["sample"]]},
    )

    assert response.status_code == 404
    assert "Secret Kick" not in response.content.decode()
    assert _snapshot(victim) == before


def test_bulk_actions_on_the_library_page_skip_another_users_samples(browser, victim):
    before = _snapshot(victim)

    response = browser.post(
        "/library/bulk",
        {"action": "delete", "sample": [str(victim["sample"].pk), str(victim["public_sample"].pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Tick at least one sample" in response.content.decode()
    assert _snapshot(victim) == before
