"""Smart collections: a saved search that finds its samples again, counted, listed, downloaded."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.base import ContentFile

from accounts.models import Role
from tests.factories import SampleFactory, UserFactory, bearer

SMART = "/api/v1/smart-collections"


@pytest.fixture
def producer():
    return UserFactory(role=Role.PRO)


def _save(client, user, name, query):
    return client.post(
        SMART, {"name": name, "query": query}, content_type="application/json", **bearer(user)
    )


@pytest.mark.django_db
def test_a_saved_search_updates_itself(client, producer):
    SampleFactory(owner=producer, name="Dusty kick", category="kick", bpm=None, tags=["dusty"])
    SampleFactory(owner=producer, name="Bright hat", category="hihat", tags=["bright"])
    response = _save(client, producer, "Kicks", {"category": "kick", "sort": "name"})
    assert response.status_code == 201, response.json()
    smart = response.json()
    assert smart["sample_count"] == 1

    SampleFactory(owner=producer, name="Another kick", category="kick")
    SampleFactory(owner=UserFactory(), name="Their kick", category="kick")  # not mine
    listed = client.get(SMART, **bearer(producer)).json()
    assert [(s["name"], s["sample_count"]) for s in listed] == [("Kicks", 2)]
    names = client.get(f"{SMART}/{smart['id']}/samples", **bearer(producer)).json()["results"]
    assert [s["name"] for s in names] == ["Another kick", "Dusty kick"]


@pytest.mark.django_db
def test_bad_filters_sorts_and_taken_names_are_4xx(client, producer):
    assert _save(client, producer, "x", {"bpm_min": "fast"}).status_code == 400
    assert _save(client, producer, "x", {"sort": "password"}).status_code == 400
    assert _save(client, producer, "Same", {"q": "kick"}).status_code == 201
    assert _save(client, producer, "Same", {"q": "snare"}).status_code == 409


@pytest.mark.django_db
def test_another_persons_smart_collection_is_a_404(client, producer):
    smart = _save(client, producer, "Mine", {"q": "kick"}).json()
    intruder = UserFactory(role=Role.PRO)
    for suffix in ("", "/samples", "/download"):
        assert client.get(f"{SMART}/{smart['id']}{suffix}", **bearer(intruder)).status_code == 404
    assert client.delete(f"{SMART}/{smart['id']}", **bearer(intruder)).status_code == 404


@pytest.mark.django_db
def test_download_zips_what_it_finds_now(client, producer):
    sample = SampleFactory(owner=producer, name="Kick", category="kick")
    sample.file.save("kick.wav", ContentFile(b"RIFF-kick"))
    SampleFactory(owner=producer, name="Hat", category="hihat")
    smart = _save(client, producer, "Kicks", {"category": "kick"}).json()
    response = client.get(f"{SMART}/{smart['id']}/download", **bearer(producer))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert len([n for n in archive.namelist() if n.endswith(".wav")]) == 1


@pytest.mark.django_db
def test_library_page_saves_its_search_and_the_list_page_counts_in_few_queries(
    client, producer, django_assert_max_num_queries
):
    client.force_login(producer)
    SampleFactory(owner=producer, name="Kick", category="kick", tags=["dusty"])
    page = client.get("/library/?category=kick&q=kick").content.decode()
    assert "Save as smart collection" in page
    response = client.post(
        "/organise/smart/save", {"name": "Kicks", "category": "kick", "q": "kick"}, follow=True
    )
    assert "Saved “Kicks”" in response.content.decode()
    for n in range(5):
        _save(client, producer, f"Search {n}", {"tags": "dusty", "sort": "-created_at"})
    with django_assert_max_num_queries(12):
        body = client.get("/organise/smart/").content.decode()
    assert body.count("1 sample<") == 6
    assert "category=kick" in body
