"""Near-duplicates beyond API uploads: samples stored before fingerprints, imports, the page."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from library.models import BatchJob, Sample
from organise.models import SampleFingerprint
from organise.tasks import backfill_fingerprints
from tests import audio
from tests.factories import UserFactory, upload_file


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def producer():
    return UserFactory(role=Role.PRO, email="producer@example.com")


def _stored_before_fingerprints(client, user, path) -> Sample:
    """A sample as it was before fingerprints existed: stored, with no fingerprint row."""
    response = upload_file(client, user, path)
    assert response.status_code == 201, response.json()
    sample = Sample.objects.get(pk=response.json()["id"])
    SampleFingerprint.objects.filter(sample=sample).delete()
    return sample


def _fingerprint_samples(*args) -> str:
    out = io.StringIO()
    call_command("fingerprint_samples", *args, stdout=out)
    return out.getvalue()


# --- backfill -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_old_sample_is_found_as_the_copy_of_a_new_upload_after_the_backfill(
    client, producer, tmp_path
):
    old = _stored_before_fingerprints(
        client, producer, audio.write(tmp_path / "Snare.wav", audio.snare())
    )
    copy = audio.write(tmp_path / "Snare quieter.ogg", audio.snare() * 0.7)

    out = _fingerprint_samples("--owner", producer.email)

    assert "Fingerprinted 1 samples; 0 still without" in out
    response = upload_file(client, producer, copy)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["sample_id"] == str(old.pk)
    # Again: nothing left to do, nothing changed.
    assert "Fingerprinted 0 samples" in _fingerprint_samples("--owner", producer.email)
    assert SampleFingerprint.objects.filter(sample=old).count() == 1


@pytest.mark.django_db
def test_backfill_links_old_copies_to_the_older_sample_and_stays_in_one_library(
    client, producer, tmp_path
):
    first = _stored_before_fingerprints(
        client, producer, audio.write(tmp_path / "Kick.wav", audio.kick())
    )
    second = _stored_before_fingerprints(
        client, producer, audio.write(tmp_path / "Kick louder.wav", audio.kick() * 1.4)
    )
    other = UserFactory(role=Role.PRO)
    theirs = _stored_before_fingerprints(
        client, other, audio.write(tmp_path / "Their kick.wav", audio.kick())
    )

    _fingerprint_samples("--owner", producer.email)

    assert SampleFingerprint.objects.get(sample=first).near_duplicate_of is None
    assert SampleFingerprint.objects.get(sample=second).near_duplicate_of == first
    assert not SampleFingerprint.objects.filter(sample=theirs).exists()
    # The scheduled task does every library; someone else's kick is no copy of ours.
    assert backfill_fingerprints() == 1
    assert SampleFingerprint.objects.get(sample=theirs).near_duplicate_of is None


@pytest.mark.django_db
def test_fingerprint_samples_explains_an_unknown_owner():
    with pytest.raises(CommandError, match="no account"):
        _fingerprint_samples("--owner", "nobody@example.com")


# --- import_samples -----------------------------------------------------------


def _import(*args) -> str:
    out = io.StringIO()
    call_command("import_samples", *args, stdout=out, verbosity=0)
    return out.getvalue()


@pytest.fixture
def folder(client, producer, tmp_path):
    """The producer has a snare; the folder holds a quieter copy of it, a kick and its copy."""
    upload_file(client, producer, audio.write(tmp_path / "Snare.wav", audio.snare()))
    root = tmp_path / "Folder"
    audio.write(root / "Snares" / "Snare quiet.wav", audio.snare() * 0.6)
    audio.write(root / "Kicks" / "Kick A.wav", audio.kick())
    audio.write(root / "Kicks" / "Kick B loud.wav", audio.kick() * 1.4)
    return root


@pytest.mark.django_db
def test_import_skips_near_duplicates_and_names_what_they_copy(producer, folder):
    out = _import(str(folder), "--owner", producer.email)

    assert "Imported 1 files, skipped 0 duplicates, 0 could not be read." in out
    assert "2 near-duplicates skipped" in out
    assert "Snares/Snare quiet.wav: “Snare”" in out
    assert "Kicks/Kick B loud.wav: “Kick A”" in out  # a copy within the import
    names = set(Sample.objects.filter(owner=producer).values_list("name", flat=True))
    assert names == {"Snare", "Kick A"}
    # The imported kick has its fingerprint: a later copy is found too.
    assert SampleFingerprint.objects.filter(sample__owner=producer).count() == 2


@pytest.mark.django_db
def test_import_keep_duplicates_stores_copies_linked_to_the_original(producer, folder):
    out = _import(str(folder), "--owner", producer.email, "--keep-duplicates")

    assert "Imported 3 files" in out
    assert "2 near-duplicates kept" in out
    links = dict(
        SampleFingerprint.objects.filter(owner=producer).values_list(
            "sample__name", "near_duplicate_of__name"
        )
    )
    assert links == {"Snare": None, "Snare quiet": "Snare", "Kick A": None, "Kick B loud": "Kick A"}


@pytest.mark.django_db
def test_import_ignores_someone_elses_samples(client, producer, folder):
    other = UserFactory(role=Role.PRO, email="other@example.com")

    out = _import(str(folder / "Snares"), "--owner", other.email)

    assert "Imported 1 files" in out
    assert "near-duplicates" not in out


@pytest.mark.django_db
def test_an_import_asks_for_stored_candidates_once_a_chunk_however_many_files(producer, folder):
    """The check costs one candidate query per chunk of 50, not one per file."""
    for n, freq in enumerate((220.0, 330.0, 440.0, 550.0, 660.0, 880.0)):
        audio.write(folder / "Tones" / f"Tone {n}.wav", audio.tone(freq, seconds=0.4))

    with CaptureQueriesContext(connection) as queries:
        out = _import(str(folder), "--owner", producer.email)

    assert "Imported 7 files" in out
    assert "Snares/Snare quiet.wav: “Snare”" in out  # still found among the stored samples
    reads = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().startswith("SELECT") and "organise_samplefingerprint" in q["sql"]
    ]
    assert len(reads) == 1


# --- the upload page: "Keep anyway" -----------------------------------------------


def _send(client, url, path, **extra):
    with open(path, "rb") as handle:
        return client.post(url, {"files": [handle], "path": path.name, **extra})


@pytest.mark.django_db
def test_upload_page_offers_keep_anyway_and_keeping_stores_the_copy_linked(
    client, producer, tmp_path
):
    client.force_login(producer)
    first = _send_whole_job(client, audio.write(tmp_path / "Clap.wav", audio.clap()))
    original = Sample.objects.get(owner=producer)
    job = client.post(reverse("library:upload-batches"), {"total": "1"}).json()
    copy = audio.write(tmp_path / "Clap loud.wav", audio.clap() * 1.3)

    refused = _send(client, job["files_url"], copy).content.decode()

    assert first.status_code == 200
    assert "sounds like “Clap”" in refused
    assert 'data-keep-duplicate="Clap loud.wav">Keep anyway</button>' in refused
    assert reverse("library:sample", args=[original.pk]) in refused
    summary = client.get(job["summary_url"]).content.decode()
    assert "Clap loud.wav" in summary  # listed as refused

    kept = _send(client, job["files_url"], copy, keep_duplicate="1").content.decode()

    stored = Sample.objects.get(owner=producer, name="Clap loud")
    assert f'data-sample="{stored.pk}"' in kept
    assert "Keep anyway" not in kept
    assert SampleFingerprint.objects.get(sample=stored).near_duplicate_of == original
    batch = BatchJob.objects.get(pk=job["id"])
    assert batch.errors == []  # the refusal left the job's summary
    assert batch.failed == 0


def _send_whole_job(client, path):
    job = client.post(reverse("library:upload-batches"), {"total": "1"}).json()
    return _send(client, job["files_url"], path)


@pytest.mark.django_db
def test_keep_anyway_escapes_names(client, producer, tmp_path):
    client.force_login(producer)
    _send_whole_job(client, audio.write(tmp_path / "<b>Clap.wav", audio.clap()))

    refused = _send_whole_job(client, audio.write(tmp_path / "<i>again.wav", audio.clap() * 0.8))

    html = refused.content.decode()
    assert "Keep anyway" in html
    assert "<b>" not in html and "<i>" not in html
    assert "&lt;i&gt;again.wav" in html
