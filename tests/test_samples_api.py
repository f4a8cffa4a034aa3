"""Reading, filtering, editing, downloading and deleting samples through the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from accounts.models import Role
from library.models import Sample
from tests.factories import SampleFactory, UserFactory, bearer

AUDIO = "/api/v1/audio/"


@pytest.fixture
def me():
    return UserFactory(role=Role.PRO)


def _get(client, user, url, **params):
    return client.get(url, params, **bearer(user))


@pytest.mark.django_db
def test_the_list_holds_only_my_samples_newest_first(client, me):
    mine = SampleFactory.create_batch(3, owner=me)
    SampleFactory(owner=UserFactory(), visibility="public")

    body = _get(client, me, AUDIO).json()

    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [str(s.pk) for s in reversed(mine)]
    assert {"bpm", "key", "mode", "category", "status", "is_loop"} <= set(body["results"][0])


@pytest.mark.django_db
def test_filters_narrow_the_list(client, me):
    SampleFactory(owner=me, name="kick", category="kick", bpm=None, is_loop=False, tags=["drums"])
    SampleFactory(
        owner=me,
        name="loop90",
        category="drum_loop",
        bpm=90,
        is_loop=True,
        key=None,
        tags=["drums", "dusty"],
    )
    SampleFactory(
        owner=me,
        name="loop128",
        category="music_loop",
        bpm=128,
        is_loop=True,
        key="A",
        mode="minor",
        tags=["house"],
    )
    SampleFactory(owner=me, name="broken", status="failed", category=None)

    def names(**params):
        return sorted(row["name"] for row in _get(client, me, AUDIO, **params).json()["results"])

    assert names(category="kick") == ["kick"]
    assert names(category=["kick", "drum_loop"]) == ["kick", "loop90"]
    assert names(bpm_min=100) == ["loop128"]
    assert names(bpm_min=80, bpm_max=100) == ["loop90"]
    assert names(key="A", mode="minor") == ["loop128"]
    assert names(is_loop="true") == ["loop128", "loop90"]
    assert names(tags="drums,dusty") == ["loop90"]
    assert names(status="failed") == ["broken"]
    assert names(ordering="-bpm")[0] in {"loop128", "kick", "broken"}


@pytest.mark.django_db
def test_the_collection_filter_lists_only_that_collections_samples(client, me):
    from library.services.collections import collection_add_samples, collection_create

    kick, snare, _hat = (SampleFactory(owner=me, name=n) for n in ("kick", "snare", "hat"))
    drums = collection_create(owner=me, name="Drums")
    collection_add_samples(collection=drums, actor=me, sample_ids=[kick.pk, snare.pk])
    empty = collection_create(owner=me, name="Empty")
    theirs = collection_create(owner=UserFactory(role=Role.PRO), name="Theirs")

    def names(collection):
        body = _get(client, me, AUDIO, collection=collection).json()
        return sorted(row["name"] for row in body["results"])

    assert names(drums.pk) == ["kick", "snare"]
    assert names(empty.pk) == []
    assert names(theirs.pk) == []  # never someone else's samples
    assert _get(client, me, AUDIO, collection="drums").status_code == 400


@pytest.mark.django_db
def test_bad_filter_values_are_a_400_not_a_crash(client, me):
    response = _get(client, me, AUDIO, bpm_min="fast", key="H", category="'; DROP TABLE x; --")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_the_page_size(
    client, me, django_assert_max_num_queries
):
    SampleFactory.create_batch(40, owner=me)
    headers = bearer(me)

    with django_assert_max_num_queries(6):
        small = client.get(AUDIO, {"page_size": 5}, **headers)
    with django_assert_max_num_queries(6):
        full = client.get(AUDIO, **headers)

    assert small.status_code == full.status_code == 200
    assert len(full.json()["results"]) == 40


@pytest.mark.django_db
def test_another_users_private_sample_does_not_exist_for_me(client, me):
    theirs = SampleFactory(owner=UserFactory(role=Role.PRO))
    url = f"{AUDIO[:-1]}/{theirs.pk}"

    assert _get(client, me, url).status_code == 404
    assert (
        client.patch(
            url, {"name": "mine"}, content_type="application/json", **bearer(me)
        ).status_code
        == 404
    )
    assert client.delete(url, **bearer(me)).status_code == 404
    assert _get(client, me, f"{url}/download").status_code == 404
    assert Sample.objects.get(pk=theirs.pk).name == theirs.name


@pytest.mark.django_db
def test_a_public_sample_is_readable_but_only_its_owner_changes_it(client, me):
    theirs = SampleFactory(owner=UserFactory(role=Role.PRO), visibility="public")
    url = f"/api/v1/audio/{theirs.pk}"

    read = _get(client, me, url)
    edit = client.patch(url, {"name": "stolen"}, content_type="application/json", **bearer(me))
    delete = client.delete(url, **bearer(me))

    assert read.status_code == 200
    assert read.json()["is_owner"] is False
    assert edit.status_code == 403
    assert delete.status_code == 403
    assert Sample.objects.filter(pk=theirs.pk, name=theirs.name).exists()


@pytest.mark.django_db
def test_owner_edits_name_tags_description_and_visibility(client, me):
    sample = SampleFactory(owner=me)
    url = f"/api/v1/audio/{sample.pk}"

    response = client.patch(
        url,
        {
            "name": "<i>Dusty</i> Break",
            "tags": ["Breaks", "<b>vinyl</b>"],
            "visibility": "public",
            "description": "<p>From <b>tape</b></p><script>x()</script>",
        },
        content_type="application/json",
        **bearer(me),
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "Dusty Break"
    assert body["tags"] == ["breaks", "vinyl"]
    assert body["visibility"] == "public"
    assert body["description"] == "<p>From <b>tape</b></p>"


@pytest.mark.django_db
def test_free_accounts_cannot_make_a_sample_public(client):
    free = UserFactory(role=Role.FREE)
    sample = SampleFactory(owner=free)

    response = client.patch(
        f"/api/v1/audio/{sample.pk}",
        {"visibility": "public"},
        content_type="application/json",
        **bearer(free),
    )

    assert response.status_code == 403
    sample.refresh_from_db()
    assert sample.visibility == "private"


@pytest.mark.django_db(transaction=True)
def test_deleting_a_sample_deletes_its_original_and_preview(client, me, settings):
    sample = SampleFactory(owner=me)
    sample.preview.save("p.ogg", ContentFile(b"OggS preview"), save=True)
    original, preview = Path(sample.file.path), Path(sample.preview.path)
    assert original.exists() and preview.exists()

    response = client.delete(f"/api/v1/audio/{sample.pk}", **bearer(me))

    assert response.status_code == 204
    assert not Sample.objects.filter(pk=sample.pk).exists()
    assert not original.exists()
    assert not preview.exists()


@pytest.mark.django_db
def test_download_sends_the_original_with_its_name(client, me):
    sample = SampleFactory(owner=me, original_filename="Kick 01.wav")
    sample.file.save("k.wav", ContentFile(b"RIFF original bytes"), save=True)

    response = _get(client, me, f"/api/v1/audio/{sample.pk}/download")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"RIFF original bytes"
    assert 'filename="Kick 01.wav"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_preview_is_404_until_analysis_made_one(client, me):
    sample = SampleFactory(owner=me, status="pending")

    response = _get(client, me, f"/api/v1/audio/{sample.pk}/preview")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "The preview is not ready yet."


@pytest.mark.django_db
def test_an_id_that_is_not_a_uuid_is_404(client, me):
    assert _get(client, me, "/api/v1/audio/1%20OR%201=1").status_code == 404
