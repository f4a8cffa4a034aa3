"""The producer pages: library, sample, upload, search and collections."""

import re

import pytest
from django.urls import reverse

from library.models import Collection, CollectionItem, Sample
from library.services.collections import collection_create
from tests import audio
from tests.factories import CollectionFactory, SampleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def producer(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_home_is_the_library_for_signed_in_people(client, producer):
    SampleFactory(owner=producer, name="Home kick")
    response = client.get("/")
    assert response.status_code == 200
    assert "Home kick" in response.content.decode()


def test_pages_need_a_sign_in(client):
    for name in ("library:list", "library:upload", "library:collections", "search:search"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_library_lists_only_my_samples(client, producer):
    SampleFactory(owner=producer, name="My kick", category="kick", bpm=None, tags=["punchy"])
    SampleFactory(name="Someone else's pad")
    response = client.get(reverse("library:list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "My kick" in content
    assert "punchy" in content
    assert "Someone else" not in content


@pytest.mark.parametrize("count", [1, 25])
def test_library_list_runs_fixed_queries(client, producer, count, django_assert_max_num_queries):
    SampleFactory.create_batch(count, owner=producer)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("library:list"))
    assert response.content.decode().count('class="sample-row"') == count


def _names(response) -> set[str]:
    """The sample names the library page lists (its rows' links)."""
    import re

    content = response.content.decode()
    return set(re.findall(r'<a href="/library/samples/[^"]+/">([^<]+)</a>', content))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "kick"}, {"Kick 90"}),
        ({"bpm_min": "100", "bpm_max": "130"}, {"Loop 120"}),
        ({"key": "A", "mode": "minor"}, {"Pad Am"}),
        ({"key": "A"}, {"Pad Am", "Pad A"}),
        ({"is_loop": "true"}, {"Loop 120"}),
        ({"is_loop": "false"}, {"Kick 90", "Pad Am", "Pad A"}),
        ({"duration_min": "3", "duration_max": "5"}, {"Pad Am"}),
        ({"tags": "dark, dusty"}, {"Loop 120"}),
        ({"status": "failed"}, {"Pad A"}),
        ({"q": "pad", "mode": "major"}, {"Pad A"}),
    ],
)
def test_library_filters_narrow_the_list(client, producer, params, expected):
    SampleFactory(owner=producer, name="Kick 90", category="kick", bpm=90, is_loop=False)
    SampleFactory(
        owner=producer,
        name="Loop 120",
        category="drum_loop",
        bpm=120,
        is_loop=True,
        duration=8,
        tags=["dark", "dusty"],
    )
    SampleFactory(
        owner=producer,
        name="Pad Am",
        category="pad",
        key="A",
        mode="minor",
        duration=4,
        is_loop=False,
        tags=["dark"],
    )
    SampleFactory(
        owner=producer,
        name="Pad A",
        category="pad",
        key="A",
        mode="major",
        is_loop=False,
        status="failed",
    )
    response = client.get(reverse("library:list"), params)
    assert _names(response) == expected
    # The controls show what is applied.
    content = response.content.decode()
    for name, value in params.items():
        if name in {"category", "key", "mode", "status", "is_loop"}:
            assert f'<option value="{value}" selected>' in content
        else:
            assert f'name="{name}" value="{value}"' in content


def test_library_filters_by_collection(client, producer):
    inside = SampleFactory(owner=producer, name="Collected")
    SampleFactory(owner=producer, name="Loose")
    collection = collection_create(owner=producer, name="Keepers")
    CollectionItem.objects.create(collection=collection, sample=inside)
    response = client.get(reverse("library:list"), {"collection": collection.pk})
    assert _names(response) == {"Collected"}
    assert f'<option value="{collection.pk}" selected>Keepers</option>' in (
        response.content.decode()
    )


def test_a_filter_that_matches_nothing_says_so_and_a_bad_value_is_ignored(client, producer):
    SampleFactory(owner=producer, name="Kick", category="kick", bpm=90)
    content = client.get(reverse("library:list"), {"category": "pad"}).content.decode()
    assert "No samples match these filters" in content
    response = client.get(reverse("library:list"), {"bpm_min": "fast"})
    assert _names(response) == {"Kick"}
    assert "bpm_min" in response.content.decode()


def test_library_filters_survive_pagination_and_sorting(client, producer):
    from library.views import PAGE_SIZE

    for index in range(PAGE_SIZE + 5):
        SampleFactory(owner=producer, name=f"Kick {index:03}", category="kick", bpm=90 + index)
    SampleFactory(owner=producer, name="Snare", category="snare", bpm=95)
    first = client.get(reverse("library:list"), {"category": "kick", "sort": "bpm"})
    content = first.content.decode()
    assert "Page 1 of 2" in content
    # The bulk bar's category menu says "Snare" too: look at the listed samples.
    assert "Kick 000" in _names(first) and "Snare" not in _names(first)
    next_link = re.search(r'<a href="\?([^"]+)">Next</a>', content).group(1).replace("&amp;", "&")
    second = client.get(reverse("library:list") + "?" + next_link)
    assert _names(second) == {f"Kick {index:03}" for index in range(PAGE_SIZE, PAGE_SIZE + 5)}
    assert '<option value="bpm" selected>' in second.content.decode()


@pytest.mark.parametrize("count", [1, 25])
def test_filtered_library_runs_fixed_queries(
    client, producer, count, django_assert_max_num_queries
):
    collection = collection_create(owner=producer, name="All")
    for sample in SampleFactory.create_batch(count, owner=producer, category="kick", bpm=100):
        CollectionItem.objects.create(collection=collection, sample=sample)
    params = {"category": "kick", "bpm_min": 90, "collection": collection.pk, "view": "grid"}
    with django_assert_max_num_queries(6):
        response = client.get(reverse("library:list"), params)
    assert response.content.decode().count('class="sample-card"') == count


def test_library_grid_is_remembered_and_rows_draw_waveforms(client, producer):
    peaks = [abs((i % 40) - 20) / 20 for i in range(800)]
    SampleFactory(owner=producer, name="Drawn", waveform=peaks)
    SampleFactory(owner=producer, name="Pending one", status="pending", waveform=[])
    content = client.get(reverse("library:list")).content.decode()
    rows = re.findall(r'<tr class="sample-row".*?</tr>', content, re.S)
    drawn_row = next(r for r in rows if "Drawn" in r)
    pending_row = next(r for r in rows if "Pending one" in r)
    assert re.search(r'<svg class="mini-wave"[^>]*><path d="M[\d.]+ [\d.]+V', drawn_row)
    assert "<svg" not in pending_row

    grid = client.get(reverse("library:list"), {"view": "grid"})
    assert grid.content.decode().count('class="sample-card"') == 2
    assert '<svg class="mini-wave"' in grid.content.decode()
    # The next visit without ?view= keeps the grid.
    again = client.get(reverse("library:list")).content.decode()
    assert 'class="sample-card"' in again and 'class="sample-row"' not in again
    back = client.get(reverse("library:list"), {"view": "list"}).content.decode()
    assert 'class="sample-row"' in back


@pytest.mark.parametrize("count", [1, 20])
def test_collections_list_runs_fixed_queries(
    client, producer, count, django_assert_max_num_queries
):
    producer.role = "studio"
    producer.save()
    for index in range(count):
        collection = CollectionFactory(owner=producer, name=f"Set {index}")
        CollectionItem.objects.create(collection=collection, sample=SampleFactory(owner=producer))
    with django_assert_max_num_queries(6):
        response = client.get(reverse("library:collections"))
    assert response.content.decode().count("1 sample ·") == count


@pytest.mark.parametrize("count", [1, 20])
def test_collection_page_runs_fixed_queries(client, producer, count, django_assert_max_num_queries):
    collection = CollectionFactory(owner=producer, name="Drums")
    for index in range(count):
        CollectionItem.objects.create(
            collection=collection, sample=SampleFactory(owner=producer), position=index
        )
    with django_assert_max_num_queries(6):
        response = client.get(reverse("library:collection", args=[collection.pk]))
    assert response.content.decode().count('class="track collection-item"') == count


@pytest.mark.parametrize("count", [1, 20])
def test_search_page_runs_fixed_queries(client, producer, count, django_assert_max_num_queries):
    SampleFactory.create_batch(count, owner=producer, name="Dusty snare", category="snare")
    with django_assert_max_num_queries(10):
        response = client.get(reverse("search:search"), {"q": "dusty"})
    assert response.status_code == 200
    assert response.content.decode().count('class="result"') == count


@pytest.mark.parametrize("count", [1, 20])
def test_filtered_search_with_facets_runs_fixed_queries(
    client, producer, count, django_assert_max_num_queries
):
    SampleFactory.create_batch(
        count, owner=producer, name="Dusty snare", category="snare", bpm=100, key="A", mode="minor"
    )
    params = {"q": "dustu", "bpm_min": 90, "key": "A", "mode": "minor", "compatible": "true"}
    # Session and user; the exact words (which bring their near spellings when they find
    # nothing), the page with those; the facets, counting the same near spellings
    # without looking them up again; the collection filter's choices; the hits' waveforms.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("search:search"), params)
    content = response.content.decode()
    assert content.count('class="result"') == count
    assert f'Snare <span class="facet__count">{count}</span>' in content


def test_uploading_audio_creates_a_pending_sample(client, producer, tmp_path):
    path = audio.write(tmp_path / "boom_kick.wav", audio.kick())
    with open(path, "rb") as handle:
        response = client.post(reverse("library:upload"), {"files": [handle]}, follow=True)
    # Without the page's script the form posts everything into one job: its summary page answers.
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/library/upload/batches/")
    sample = Sample.objects.get(owner=producer)
    assert sample.name == "boom kick"
    assert sample.batch is not None
    assert "boom kick" in response.content.decode()
    assert 'data-status="pending"' in response.content.decode()


def test_uploading_a_non_audio_file_shows_why_and_stores_nothing(client, producer, tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is a shopping list, not audio")
    with open(path, "rb") as handle:
        response = client.post(reverse("library:upload"), {"files": [handle]}, follow=True)
    assert response.status_code == 200
    content = response.content.decode()
    assert re.search(r'<span class="file">notes.wav</span>: This file is not audio', content)
    assert "<strong>1</strong> refused" in content
    assert not Sample.objects.exists()


def test_sample_page_edits_name_and_tags(client, producer):
    sample = SampleFactory(owner=producer, name="Old")
    url = reverse("library:sample", args=[sample.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"name": "New name", "tags": "dark, Dusty", "description": "", "visibility": "private"}
    )
    assert response.status_code == 302
    sample.refresh_from_db()
    assert sample.name == "New name"
    assert sample.tags == ["dark", "dusty"]


def test_someone_elses_private_sample_is_not_found(client, producer):
    sample = SampleFactory(visibility="private")
    assert client.get(reverse("library:sample", args=[sample.pk])).status_code == 404


def test_add_to_collection_from_the_sample_page(client, producer):
    sample = SampleFactory(owner=producer)
    collection = collection_create(owner=producer, name="Favourites")
    response = client.post(
        reverse("library:sample-collect", args=[sample.pk]), {"collection": collection.pk}
    )
    assert response.status_code == 302
    assert list(collection.items.values_list("sample_id", flat=True)) == [sample.pk]


def test_creating_a_collection_over_the_plan_limit_shows_the_message(client, producer):
    for index in range(3):
        collection_create(owner=producer, name=f"Set {index}")
    response = client.post(
        reverse("library:collections"), {"name": "One more", "visibility": "private"}, follow=True
    )
    assert "allows 3 collections" in response.content.decode()
    assert Collection.objects.filter(owner=producer).count() == 3


def test_similar_sounds_need_the_plan(client, producer):
    sample = SampleFactory(owner=producer)
    response = client.get(reverse("library:sample-similar", args=[sample.pk]))
    assert "search:similar" in response.content.decode()


def test_api_keys_page_shows_the_secret_once_and_revokes(client, producer):
    producer.role = "pro"
    producer.save()
    url = reverse("web:api-keys")
    response = client.post(
        url,
        {
            "name": "Laptop",
            "scopes": ["search:basic", "audio:upload"],
            "expires": "30",
            "networks": "203.0.113.0/24",
        },
    )
    content = response.content.decode()
    key = producer.api_keys.get()
    # The key may do what was ticked and no more, expires, and is bound to the network.
    assert sorted(key.scopes) == ["audio:upload", "search:basic"]
    assert key.expires_at is not None
    assert key.allowed_cidrs == ["203.0.113.0/24"]
    assert 'id="new-secret"' in content
    assert key.prefix in content
    assert 'id="new-secret"' not in client.get(url).content.decode()
    client.post(reverse("web:api-key-revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_api_keys_need_the_plan(client, producer):
    response = client.post(reverse("web:api-keys"), {"name": "Laptop", "scopes": ["search:basic"]})
    assert "does not include API keys" in response.content.decode()
    assert not producer.api_keys.exists()


def test_bulk_actions_tag_collect_zip_and_delete(client, producer):
    mine = SampleFactory.create_batch(2, owner=producer, tags=["old"])
    other = SampleFactory()
    collection = collection_create(owner=producer, name="Bulk")
    ids = [str(s.pk) for s in mine] + [str(other.pk)]
    url = reverse("library:bulk")

    client.post(url, {"sample": ids, "action": "tag", "tags": "New, dark"})
    assert sorted(Sample.objects.get(pk=mine[0].pk).tags) == ["dark", "new", "old"]
    assert Sample.objects.get(pk=other.pk).tags == []

    client.post(url, {"sample": ids, "action": "collect", "collection": collection.pk})
    assert collection.items.count() == 2

    response = client.post(url, {"sample": ids, "action": "zip"})
    assert response["Content-Type"] == "application/zip"
    assert len(b"".join(response.streaming_content)) > 0

    client.post(url, {"sample": ids, "action": "delete"})
    assert not Sample.objects.filter(owner=producer).exists()
    assert Sample.objects.filter(pk=other.pk).exists()


def test_bulk_with_nothing_ticked_says_so(client, producer):
    response = client.post(reverse("library:bulk"), {"action": "delete"}, follow=True)
    assert "Tick at least one sample" in response.content.decode()


def test_search_by_sound_refuses_a_non_audio_clip(client, producer, tmp_path):
    producer.role = "pro"
    producer.save()
    path = tmp_path / "clip.wav"
    path.write_bytes(b"not audio at all")
    with open(path, "rb") as handle:
        response = client.post(reverse("search:by-sound"), {"clip": handle})
    assert response.status_code == 200
    assert "cannot be read as audio" in response.content.decode()


def test_a_zip_archive_is_unpacked_into_samples(client, producer, tmp_path):
    import zipfile

    producer.role = "pro"
    producer.save()
    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(audio.write(tmp_path / "zip_kick.wav", audio.kick()), "drums/zip_kick.wav")
        bundle.writestr("readme.txt", "hello")
    with open(archive, "rb") as handle:
        response = client.post(reverse("library:upload"), {"files": [handle]}, follow=True)
    content = response.content.decode()
    sample = Sample.objects.get(owner=producer)
    assert sample.name == "zip kick"
    # The folder inside the zip becomes a tag and is kept for downloads.
    assert sample.tags == ["drums"]
    assert sample.source_path == "drums/zip_kick.wav"
    assert "zip kick" in content


def test_zip_uploads_need_the_plan(client, producer, tmp_path):
    import zipfile

    archive = tmp_path / "pack.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(audio.write(tmp_path / "k.wav", audio.kick()), "k.wav")
    with open(archive, "rb") as handle:
        response = client.post(reverse("library:upload"), {"files": [handle]}, follow=True)
    assert "audio:batch" in response.content.decode()
    assert not Sample.objects.exists()


def _result_names(response) -> set[str]:
    """The names the search page lists, with any <mark> highlighting removed."""
    content = response.content.decode()
    links = re.findall(
        r'<li class="result".*?<a href="/library/samples/[^"]+/">(.*?)</a>', content, re.S
    )
    return {re.sub(r"</?mark>", "", link) for link in links}


@pytest.fixture
def sounds(producer):
    SampleFactory(
        owner=producer,
        name="Kick 90",
        category="kick",
        bpm=90,
        is_loop=False,
        duration=0.5,
        loudness_lufs=-8,
    )
    SampleFactory(
        owner=producer,
        name="Loop 124",
        category="drum_loop",
        bpm=124,
        is_loop=True,
        duration=8,
        loudness_lufs=-12,
        tags=["dusty", "vinyl"],
    )
    SampleFactory(
        owner=producer,
        name="Pad Am",
        category="pad",
        key="A",
        mode="minor",
        duration=4,
        loudness_lufs=-20,
        is_loop=False,
    )
    SampleFactory(
        owner=producer,
        name="Pad C",
        category="pad",
        key="C",
        mode="major",
        duration=6,
        loudness_lufs=-18,
        is_loop=False,
    )
    SampleFactory(
        owner=producer,
        name="Pad F#",
        category="pad",
        key="F#",
        mode="major",
        duration=6,
        loudness_lufs=-18,
        is_loop=False,
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "pad"}, {"Pad Am", "Pad C", "Pad F#"}),
        ({"bpm_min": "100", "bpm_max": "130"}, {"Loop 124"}),
        ({"key": "A", "mode": "minor"}, {"Pad Am"}),
        # A minor's Camelot neighbours include its relative major, C.
        ({"key": "A", "mode": "minor", "compatible": "true"}, {"Pad Am", "Pad C"}),
        ({"duration_min": "3", "duration_max": "5"}, {"Pad Am"}),
        ({"loudness_min": "-14", "loudness_max": "-6"}, {"Kick 90", "Loop 124"}),
        ({"is_loop": "true"}, {"Loop 124"}),
        ({"is_loop": "false", "category": "kick"}, {"Kick 90"}),
        ({"tags": "dusty, vinyl"}, {"Loop 124"}),
        ({"q": "pad", "mode": "major"}, {"Pad C", "Pad F#"}),
    ],
)
def test_search_filters_narrow_the_results(client, sounds, params, expected):
    response = client.get(reverse("search:search"), params)
    assert response.status_code == 200
    assert _result_names(response) == expected
    content = response.content.decode()
    if "compatible" in params:
        assert 'name="compatible" value="true" checked' in content
    for name in ("bpm_min", "duration_max", "loudness_min", "tags"):
        if name in params:
            assert f'name="{name}" value="{params[name]}"' in content
    for name in ("key", "mode"):
        if name in params:
            assert f'<option value="{params[name]}" selected>' in content


def test_search_facets_are_links_that_add_the_filter(client, sounds):
    content = client.get(reverse("search:search"), {"q": "pad"}).content.decode()
    # Three pads share one category; the key facet counts each key.
    link = re.search(
        r'<a class="facet" href="\?([^"]+)">Pad <span class="facet__count">3</span>', content
    )
    assert link is not None
    narrowed = client.get(reverse("search:search") + "?" + link.group(1).replace("&amp;", "&"))
    assert _result_names(narrowed) == {"Pad Am", "Pad C", "Pad F#"}
    key_link = re.search(
        r'<a class="facet" href="\?([^"]+)">A minor \(8A\) <span class="facet__count">1', content
    )
    assert key_link is not None
    by_key = client.get(reverse("search:search") + "?" + key_link.group(1).replace("&amp;", "&"))
    assert _result_names(by_key) == {"Pad Am"}
    assert "facet--active" in by_key.content.decode()


def test_search_tempo_facet_narrows_to_its_band(client, sounds):
    content = client.get(reverse("search:search")).content.decode()
    band = re.search(
        r'<a class="facet" href="\?([^"]+)">120–139 BPM <span class="facet__count">1', content
    )
    assert band is not None
    response = client.get(reverse("search:search") + "?" + band.group(1).replace("&amp;", "&"))
    assert _result_names(response) == {"Loop 124"}


def test_search_shows_highlighted_snippets(client, producer):
    SampleFactory(owner=producer, name="Dusty snare", description="A <b>dusty</b> brush hit")
    content = client.get(reverse("search:search"), {"q": "dusty"}).content.decode()
    assert "<mark>Dusty</mark> snare" in content
    assert '<p class="result__snippet">A <mark>dusty</mark> brush hit</p>' in content
    assert "<b>" not in content


def test_misspelt_search_still_shows_facets(client, producer):
    SampleFactory(owner=producer, name="Deep kick", category="kick")
    content = client.get(reverse("search:search"), {"q": "kik"}).content.decode()
    assert "Deep kick" in content
    assert re.search(r'<a class="facet" href="[^"]+">Kick <span class="facet__count">1', content)


def test_search_pagination_keeps_the_filters(client, producer):
    for index in range(25):
        SampleFactory(owner=producer, name=f"Snare {index:02}", category="snare", bpm=100)
    SampleFactory(owner=producer, name="Snare elsewhere", category="snare", bpm=150)
    first = client.get(reverse("search:search"), {"q": "snare", "bpm_max": "120"})
    assert len(_result_names(first)) == 20
    next_link = re.search(r'<a href="\?([^"]+)">Next</a>', first.content.decode()).group(1)
    second = client.get(reverse("search:search") + "?" + next_link.replace("&amp;", "&"))
    assert len(_result_names(second)) == 5
    assert "Snare elsewhere" not in _result_names(second)


def test_a_bad_search_filter_is_reported_and_left_out(client, sounds):
    response = client.get(reverse("search:search"), {"category": "pad", "bpm_min": "fast"})
    assert _result_names(response) == {"Pad Am", "Pad C", "Pad F#"}
    assert "bpm_min: A valid number is required." in response.content.decode()


def test_upload_rows_answer_one_row_per_file_for_the_upload_script(client, producer, tmp_path):
    good = audio.write(tmp_path / "row_kick.wav", audio.kick())
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    job = client.post(reverse("library:upload-batches"), {"total": "2"})
    assert job.status_code == 201
    url = job.json()["files_url"]
    with open(good, "rb") as handle:
        content = client.post(url, {"files": [handle], "path": "row_kick.wav"}).content.decode()
    sample = Sample.objects.get(owner=producer)
    assert content.strip().startswith(f'<li class="upload-item" data-sample="{sample.pk}">')
    assert 'data-status="pending"' in content
    assert "<html" not in content
    with open(bad, "rb") as handle:
        content = client.post(url, {"files": [handle], "path": "notes.wav"}).content.decode()
    assert '<li class="upload-item upload-item--failed"><span role="alert">' in content
    assert "notes.wav" in content
    assert Sample.objects.filter(owner=producer).count() == 1


def _with_preview(sample, data=b"OggS preview"):
    from django.core.files.base import ContentFile

    sample.preview.save("p.ogg", ContentFile(data), save=True)
    return sample


def test_a_visitor_can_play_a_public_sample_but_not_a_private_one(client):
    public = _with_preview(SampleFactory(visibility="public", name="Shared hit"))
    private = _with_preview(SampleFactory(visibility="private"))
    page = client.get(reverse("library:sample", args=[public.pk])).content.decode()
    preview_url = reverse("library:sample-preview", args=[public.pk])
    assert f'src="{preview_url}"' in page
    assert "Download</a>" not in page  # downloads stay with signed-in plans
    response = client.get(preview_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"OggS preview"
    assert client.get(reverse("library:sample-preview", args=[private.pk])).status_code == 404
    # The original is never streamed to a visitor, even of a public sample.
    unprocessed = SampleFactory(visibility="public")
    assert client.get(reverse("library:sample-preview", args=[unprocessed.pk])).status_code == 404


def test_the_owner_hears_the_original_until_the_preview_exists(client, producer):
    sample = SampleFactory(owner=producer)
    response = client.get(reverse("library:sample-preview", args=[sample.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"RIFF"
    someone_elses = SampleFactory(visibility="private")
    url = reverse("library:sample-preview", args=[someone_elses.pk])
    assert client.get(url).status_code == 404


def test_a_public_collection_plays_for_visitors(client):
    owner = UserFactory(role="pro")
    collection = collection_create(owner=owner, name="Shared kit", visibility="public")
    shared = _with_preview(SampleFactory(owner=owner, visibility="public", name="Shared snare"))
    hidden = SampleFactory(owner=owner, visibility="private", name="Owner only")
    for position, sample in enumerate([shared, hidden]):
        CollectionItem.objects.create(collection=collection, sample=sample, position=position)
    content = client.get(reverse("library:collection", args=[collection.pk])).content.decode()
    assert "Shared snare" in content and "Owner only" not in content
    assert f'data-src="{reverse("library:sample-preview", args=[shared.pk])}"' in content
    assert "move-button" not in content and "collection-download" not in content
    assert client.get(reverse("library:sample-preview", args=[shared.pk])).status_code == 200
    private = collection_create(owner=owner, name="Private kit")
    assert client.get(reverse("library:collection", args=[private.pk])).status_code == 404


def test_collection_owner_gets_move_buttons(client, producer):
    collection = collection_create(owner=producer, name="Order me")
    for position in range(2):
        CollectionItem.objects.create(
            collection=collection, sample=SampleFactory(owner=producer), position=position
        )
    content = client.get(reverse("library:collection", args=[collection.pk])).content.decode()
    assert content.count('data-move="up"') == 2 and content.count('data-move="down"') == 2
