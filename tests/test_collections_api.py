"""Collections: create, fill, order, share, download as zip, delete."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.base import ContentFile

from accounts.models import Role
from library.models import Collection, Sample
from tests.factories import CollectionFactory, SampleFactory, UserFactory, bearer

COLLECTIONS = "/api/v1/collections"


@pytest.fixture
def me():
    return UserFactory(role=Role.PRO)


def _json(client, method, url, user, body=None):
    return getattr(client, method)(url, body, content_type="application/json", **bearer(user))


def _create(client, user, name="Dark kicks", **extra):
    return _json(client, "post", COLLECTIONS, user, {"name": name, **extra})


@pytest.mark.django_db
def test_create_fill_and_reorder_a_collection(client, me):
    a, b, c = (SampleFactory(owner=me, name=n) for n in "abc")
    collection = _create(client, me).json()
    url = f"{COLLECTIONS}/{collection['id']}"

    added = _json(
        client,
        "post",
        f"{url}/samples",
        me,
        {"sample_ids": [str(a.pk), str(b.pk), str(c.pk), str(a.pk)]},
    )
    reordered = _json(
        client, "put", f"{url}/order", me, {"sample_ids": [str(c.pk), str(a.pk), str(b.pk)]}
    )
    removed = _json(client, "delete", f"{url}/samples", me, {"sample_ids": [str(a.pk)]})
    detail = client.get(url, **bearer(me)).json()

    assert added.json() == {"added": 3}
    assert reordered.status_code == 204
    assert removed.json() == {"removed": 1}
    assert [s["name"] for s in detail["samples"]] == ["c", "b"]
    assert detail["sample_count"] == 2
    assert Sample.objects.filter(pk=a.pk).exists()  # removing from a collection keeps the sample


@pytest.mark.django_db
def test_reorder_must_list_every_sample_once(client, me):
    a, b = SampleFactory(owner=me), SampleFactory(owner=me)
    url = f"{COLLECTIONS}/{_create(client, me).json()['id']}"
    _json(client, "post", f"{url}/samples", me, {"sample_ids": [str(a.pk), str(b.pk)]})

    response = _json(client, "put", f"{url}/order", me, {"sample_ids": [str(a.pk)]})

    assert response.status_code == 400
    assert "every sample" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_another_users_private_sample_cannot_be_added(client, me):
    theirs = SampleFactory(owner=UserFactory())
    url = f"{COLLECTIONS}/{_create(client, me).json()['id']}"

    response = _json(client, "post", f"{url}/samples", me, {"sample_ids": [str(theirs.pk)]})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["sample_ids"] == [str(theirs.pk)]


@pytest.mark.django_db
def test_collection_quota_refuses_with_a_clear_message(client):
    free = UserFactory(role=Role.FREE)
    for name in ("one", "two", "three"):
        assert _create(client, free, name).status_code == 201

    fourth = _create(client, free, "four")

    assert fourth.status_code == 403
    assert "3 collections" in fourth.json()["error"]["message"]
    assert Collection.objects.filter(owner=free).count() == 3


@pytest.mark.django_db
def test_duplicate_collection_name_is_409(client, me):
    _create(client, me, "Vocals")

    response = _create(client, me, "Vocals")

    assert response.status_code == 409


@pytest.mark.django_db
def test_others_collections_private_404_public_read_only(client, me):
    other = UserFactory(role=Role.PRO)
    private = CollectionFactory(owner=other, name="secret")
    public = CollectionFactory(owner=other, name="shared", visibility="public")

    assert client.get(f"{COLLECTIONS}/{private.pk}", **bearer(me)).status_code == 404
    assert client.get(f"{COLLECTIONS}/{public.pk}", **bearer(me)).status_code == 200
    assert (
        _json(client, "patch", f"{COLLECTIONS}/{public.pk}", me, {"name": "mine"}).status_code
        == 403
    )
    assert client.delete(f"{COLLECTIONS}/{public.pk}", **bearer(me)).status_code == 403
    assert (
        _json(
            client,
            "post",
            f"{COLLECTIONS}/{public.pk}/samples",
            me,
            {"sample_ids": [str(SampleFactory(owner=me).pk)]},
        ).status_code
        == 403
    )
    listed = client.get(COLLECTIONS, **bearer(me)).json()["results"]
    assert listed == []
    public_list = client.get(COLLECTIONS, {"scope": "public"}, **bearer(me)).json()["results"]
    assert [c["name"] for c in public_list] == ["shared"]


@pytest.mark.django_db
def test_a_public_collection_hides_its_owners_private_samples_from_others(client, me):
    other = UserFactory(role=Role.PRO)
    shared = SampleFactory(owner=other, name="shared", visibility="public")
    hidden = SampleFactory(owner=other, name="hidden")
    collection = CollectionFactory(owner=other, name="mixed", visibility="public")
    collection.items.create(sample=shared, position=0)
    collection.items.create(sample=hidden, position=1)

    detail = client.get(f"{COLLECTIONS}/{collection.pk}", **bearer(me)).json()

    assert [s["name"] for s in detail["samples"]] == ["shared"]


@pytest.mark.django_db
def test_download_a_collection_as_a_zip_in_order(client, me):
    first = SampleFactory(owner=me, name="Kick", original_filename="k.wav")
    first.file.save("k.wav", ContentFile(b"kick bytes"), save=True)
    second = SampleFactory(owner=me, name="Snare/../x", original_filename="s.flac")
    second.file.save("s.flac", ContentFile(b"snare bytes"), save=True)
    url = f"{COLLECTIONS}/{_create(client, me, 'Pack').json()['id']}"
    _json(client, "post", f"{url}/samples", me, {"sample_ids": [str(first.pk), str(second.pk)]})

    response = client.get(f"{url}/download", **bearer(me))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    # Original file names, in the collection's order.
    assert bundle.namelist() == ["k.wav", "s.flac"]
    assert bundle.read("k.wav") == b"kick bytes"


@pytest.mark.django_db
def test_deleting_a_collection_keeps_its_samples(client, me):
    sample = SampleFactory(owner=me)
    url = f"{COLLECTIONS}/{_create(client, me).json()['id']}"
    _json(client, "post", f"{url}/samples", me, {"sample_ids": [str(sample.pk)]})

    assert client.delete(url, **bearer(me)).status_code == 204
    assert Sample.objects.filter(pk=sample.pk).exists()
    assert not Collection.objects.exists()


@pytest.mark.django_db
def test_collection_list_query_count_is_flat(client, me, django_assert_max_num_queries):
    for n in range(30):
        CollectionFactory(owner=me, name=f"c{n}")

    with django_assert_max_num_queries(6):
        response = client.get(COLLECTIONS, **bearer(me))

    assert len(response.json()["results"]) == 30


@pytest.mark.django_db
def test_a_public_collections_count_is_what_the_caller_may_open(client, me):
    other = UserFactory(role=Role.PRO)
    collection = CollectionFactory(owner=other, name="mixed", visibility="public")
    for position, visibility in enumerate(["public", "private", "private"]):
        sample = SampleFactory(owner=other, visibility=visibility)
        collection.items.create(sample=sample, position=position)

    detail = client.get(f"{COLLECTIONS}/{collection.pk}", **bearer(me)).json()
    listed = client.get(COLLECTIONS, {"scope": "public"}, **bearer(me)).json()["results"]
    owners = client.get(f"{COLLECTIONS}/{collection.pk}", **bearer(other)).json()

    assert detail["sample_count"] == len(detail["samples"]) == 1
    assert [c["sample_count"] for c in listed] == [1]
    assert owners["sample_count"] == 3


@pytest.mark.django_db
def test_scope_public_lists_only_public_collections_mine_included(client, me):
    CollectionFactory(owner=me, name="my private")
    CollectionFactory(owner=me, name="my public", visibility="public")
    CollectionFactory(owner=UserFactory(), name="their private")
    CollectionFactory(owner=UserFactory(), name="their public", visibility="public")

    public = client.get(COLLECTIONS, {"scope": "public"}, **bearer(me)).json()["results"]
    mine = client.get(COLLECTIONS, **bearer(me)).json()["results"]

    assert [c["name"] for c in public] == ["my public", "their public"]
    assert [c["name"] for c in mine] == ["my private", "my public"]


@pytest.mark.django_db
def test_an_unknown_scope_is_refused_rather_than_read_as_owned(client, me):
    response = client.get(COLLECTIONS, {"scope": "everyone"}, **bearer(me))

    assert response.status_code == 400
    assert "scope" in response.content.decode()
