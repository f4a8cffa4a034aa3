"""The listening pages' server side: byte ranges, the player's peaks, zip names, collections,
page uploads as one job, the theme and the visitors' home page."""

import io
import re
import zipfile

import pytest
from django.urls import reverse

from library.models import BatchJob, Collection, Sample
from library.services.collections import collection_add_samples, collection_create
from tests import audio
from tests.factories import SampleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def producer(client):
    user = UserFactory(role="pro")
    client.force_login(user)
    return user


def stored(owner, name: str, data: bytes, **fields) -> Sample:
    return SampleFactory(
        owner=owner,
        name=name,
        original_filename=fields.pop("original_filename", f"{name}.wav"),
        file__filename=f"{name}.wav",
        file__data=data,
        **fields,
    )


def test_a_preview_answers_a_byte_range_with_206(client, producer):
    data = bytes(range(256)) * 40
    sample = stored(producer, "Ranged", data)
    url = reverse("library:sample-preview", args=[sample.pk])

    whole = client.get(url)
    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == data

    part = client.get(url, HTTP_RANGE="bytes=100-199")
    assert part.status_code == 206
    assert part["Accept-Ranges"] == "bytes"
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part["Content-Length"] == "100"
    assert b"".join(part.streaming_content) == data[100:200]

    tail = client.get(url, HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206
    assert b"".join(tail.streaming_content) == data[-10:]
    open_ended = client.get(url, HTTP_RANGE=f"bytes={len(data) - 5}-")
    assert b"".join(open_ended.streaming_content) == data[-5:]

    beyond = client.get(url, HTTP_RANGE=f"bytes={len(data)}-")
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(data)}"


def test_a_download_answers_a_byte_range_too(client, producer):
    data = b"RIFF" + bytes(1000)
    sample = stored(producer, "Original", data)
    response = client.get(f"/api/v1/audio/{sample.pk}/download", HTTP_RANGE="bytes=0-3")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == b"RIFF"
    assert 'filename="Original.wav"' in response["Content-Disposition"]


def test_the_player_gets_peaks_and_the_stored_duration(client, producer):
    peaks = [i / 800 for i in range(800)]
    sample = SampleFactory(owner=producer, waveform=peaks, duration=11.84)
    data = client.get(reverse("library:sample-peaks", args=[sample.pk])).json()
    assert data["duration"] == 11.84
    assert len(data["peaks"]) == 400
    assert data["peaks"][-1] == pytest.approx(799 / 800, abs=0.001)
    other = SampleFactory()
    assert client.get(reverse("library:sample-peaks", args=[other.pk])).status_code == 404


def test_rows_carry_what_the_player_needs_and_human_labels(client, producer):
    SampleFactory(
        owner=producer, name="Break", category="drum_loop", is_loop=True, duration=7.5, bpm=92
    )
    content = client.get(reverse("library:list")).content.decode()
    row = re.search(r'<tr class="sample-row".*?</tr>', content, re.S).group(0)
    assert 'data-duration="7.5"' in row
    assert "Drum loop" in row and "drum_loop" not in row.replace("data-", "")
    assert "7.50 s" in row
    # Ready samples show no status badge.
    assert "status--ready" not in row


def test_the_sample_page_names_its_format_as_producers_do(client, producer):
    known = SampleFactory(owner=producer, format="wav", sample_rate=44100, bit_depth=24, channels=2)
    unknown = SampleFactory(owner=producer, format="wav", sample_rate=None, channels=None)
    page = client.get(reverse("library:sample", args=[known.pk])).content.decode()
    assert "WAV, 44.1 kHz, 24-bit, stereo" in page
    page = client.get(reverse("library:sample", args=[unknown.pk])).content.decode()
    assert "? Hz" not in page and "? ch" not in page


def test_zip_downloads_keep_original_names_and_folders(client, producer):
    first = stored(
        producer,
        "kick a",
        b"one",
        original_filename="bassdrum_acoustic01.ogg",
        source_path="Pack/Drums/bassdrum_acoustic01.ogg",
    )
    clash = stored(
        producer,
        "kick b",
        b"two",
        original_filename="bassdrum_acoustic01.ogg",
        source_path="Pack/Drums/bassdrum_acoustic01.ogg",
    )
    loose = stored(producer, "loose", b"three", original_filename="Snare 1.wav")
    collection = collection_create(owner=producer, name="Names")
    collection_add_samples(
        collection=collection, actor=producer, sample_ids=[first.pk, clash.pk, loose.pk]
    )
    response = client.get(f"/api/v1/collections/{collection.pk}/download")
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert bundle.namelist() == [
        "Pack/Drums/bassdrum_acoustic01.ogg",
        "Pack/Drums/bassdrum_acoustic01 (2).ogg",
        "Snare 1.wav",
    ]
    assert bundle.read("Pack/Drums/bassdrum_acoustic01 (2).ogg") == b"two"


def test_a_collection_is_renamed_emptied_and_deleted_on_its_page(client, producer):
    kept = SampleFactory(owner=producer, name="Kept")
    gone = SampleFactory(owner=producer, name="Gone")
    collection = collection_create(owner=producer, name="Old name")
    collection_add_samples(collection=collection, actor=producer, sample_ids=[kept.pk, gone.pk])

    client.post(
        reverse("library:collection-edit", args=[collection.pk]),
        {"name": "New name", "description": "", "visibility": "private"},
    )
    collection.refresh_from_db()
    assert collection.name == "New name"

    client.post(reverse("library:collection-remove", args=[collection.pk]), {"sample": gone.pk})
    assert list(collection.items.values_list("sample__name", flat=True)) == ["Kept"]
    assert Sample.objects.filter(pk=gone.pk).exists()

    stranger = UserFactory(role="pro")
    client.force_login(stranger)
    url = reverse("library:collection-delete", args=[collection.pk])
    assert client.post(url).status_code == 404
    client.force_login(producer)
    response = client.post(url, follow=True)
    assert "Its samples are still in your library" in response.content.decode()
    assert not Collection.objects.filter(pk=collection.pk).exists()
    assert Sample.objects.filter(pk=kept.pk).exists()


def test_the_owner_is_warned_that_private_samples_hide_from_the_public_link(client, producer):
    private = SampleFactory(owner=producer, name="Secret kick", visibility="private")
    shared = SampleFactory(owner=producer, name="Shared hat", visibility="public")
    collection = collection_create(owner=producer, name="Showcase", visibility="public")
    collection_add_samples(
        collection=collection, actor=producer, sample_ids=[private.pk, shared.pk]
    )
    url = reverse("library:collection", args=[collection.pk])
    content = client.get(url).content.decode()
    assert 'id="hidden-warning"' in content
    assert "1 of these samples is private" in content and "Secret kick" in content

    client.logout()
    visitor = client.get(url).content.decode()
    assert "Shared hat" in visitor and "Secret kick" not in visitor
    assert 'id="hidden-warning"' not in visitor

    client.force_login(producer)
    client.post(reverse("library:collection-publish-samples", args=[collection.pk]))
    private.refresh_from_db()
    assert private.visibility == "public"
    assert 'id="hidden-warning"' not in client.get(url).content.decode()


def test_a_page_upload_is_one_job_with_folder_tags_collections_and_a_summary(
    client, producer, tmp_path
):
    kick = audio.write(tmp_path / "kick_a.wav", audio.kick()).read_bytes()
    snare = audio.write(tmp_path / "snare_a.wav", audio.snare()).read_bytes()
    job_url = client.post(reverse("library:upload-batches"), {"total": "4"}).json()
    files_url = job_url["files_url"]

    def send(path, data):
        handle = io.BytesIO(data)
        handle.name = path.rsplit("/", 1)[-1]
        return client.post(files_url, {"files": [handle], "path": path, "collections": "1"})

    send("Pack/Drums/kick_a.wav", kick)
    send("Pack/Drums/Snares/snare_a.wav", snare)
    send("Pack/Drums/kick_copy.wav", kick)
    send("Pack/notes.wav", b"not audio at all")

    job = BatchJob.objects.get(pk=job_url["id"])
    samples = {s.name: s for s in job.samples.all()}
    assert set(samples) == {"kick a", "snare a"}
    assert samples["snare a"].tags == ["pack", "drums", "snares"]
    assert samples["snare a"].source_path == "Pack/Drums/Snares/snare_a.wav"
    assert list(
        Collection.objects.get(owner=producer, name="Pack").items.values_list(
            "sample__name", flat=True
        )
    ) == ["kick a", "snare a"]

    summary = client.get(job_url["summary_url"]).content.decode()
    assert re.search(r'id="summary-duplicates"><strong>1</strong>', summary)
    assert re.search(r'id="summary-refused"><strong>1</strong>', summary)
    assert "Pack/notes.wav" in summary
    # The job is the producer's alone.
    client.force_login(UserFactory())
    assert client.get(job_url["summary_url"]).status_code == 404
    assert client.post(files_url, {"files": [io.BytesIO(kick)]}).status_code == 404


def test_a_page_upload_needs_a_file_count(client, producer):
    assert client.post(reverse("library:upload-batches"), {"total": "many"}).status_code == 400
    assert client.post(reverse("library:upload-batches"), {"total": "0"}).status_code == 400


def test_the_theme_is_dark_until_light_is_chosen(client, producer):
    assert 'data-theme="dark"' in client.get(reverse("library:list")).content.decode()
    response = client.post(reverse("web:theme"), {"theme": "light", "next": "/library/"})
    assert response.status_code == 302 and response["Location"] == "/library/"
    assert 'data-theme="light"' in client.get(reverse("library:list")).content.decode()
    assert client.post(reverse("web:theme"), {"theme": "pink"}).status_code == 400
    away = client.post(reverse("web:theme"), {"theme": "dark", "next": "https://evil.example/"})
    assert away["Location"] == "/"


def test_visitors_get_an_introduction_and_public_samples_to_play(client):
    SampleFactory(name="Open hat", visibility="public")
    SampleFactory(name="Hidden snare", visibility="private")
    content = client.get("/").content.decode()
    assert "Sign in" in content and "Create an account" in content
    assert "Open hat" in content and "Hidden snare" not in content
    assert 'class="play-button"' in content


def test_api_keys_refuse_a_scope_beyond_the_plan(client, producer):
    response = client.post(reverse("web:api-keys"), {"name": "Too much", "scopes": ["admin:users"]})
    assert response.status_code == 200
    assert not producer.api_keys.exists()
    assert "admin:users is not one of the available choices" in response.content.decode()


def test_a_file_the_server_never_stored_still_counts_in_its_upload(client, producer):
    job = client.post(reverse("library:upload-batches"), {"total": "1"}).json()
    response = client.post(
        job["files_url"],
        {"path": "Pack/huge.wav", "not_sent": "huge.wav is larger than the 200 MB limit."},
    )
    assert response.status_code == 204
    batch = BatchJob.objects.get(pk=job["id"])
    assert batch.failed == 1 and batch.finished_at is not None
    summary = client.get(job["summary_url"]).content.decode()
    assert "Pack/huge.wav" in summary and "larger than the 200 MB limit" in summary
    assert 'data-finished="true"' in summary
