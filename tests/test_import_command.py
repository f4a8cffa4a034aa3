"""`manage.py import_samples` and `reanalyze`: folder trees in, duplicates skipped, summary out."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from library.models import BatchJob, Collection, Sample, SampleStatus
from library.services import queue
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "Library"
    audio.write(root / "Drums" / "Kicks" / "BD_01.wav", audio.kick())
    audio.write(root / "Drums" / "Snares" / "Snr_01.flac", audio.snare())
    audio.write(root / "Loops" / "break_120.ogg", audio.drum_loop(120, bars=1))
    (root / "Drums" / "Kicks" / "BD_01 copy.wav").write_bytes(
        (root / "Drums" / "Kicks" / "BD_01.wav").read_bytes()
    )
    (root / "Drums" / "notes.txt").write_text("not audio")
    (root / "Drums" / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    return root


def _run(*args) -> str:
    out = io.StringIO()
    call_command("import_samples", *args, stdout=out, verbosity=0)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_import_skips_duplicates_tags_by_folder_and_fills_a_collection(tree):
    owner = UserFactory(email="crate@example.com")

    output = _run(str(tree), "--owner", "CRATE@example.com", "--collection", "Crate", "--wait")

    assert "Imported 3 files, skipped 1 duplicates, 1 could not be read." in output
    assert "broken.wav" in output
    samples = Sample.objects.filter(owner=owner)
    assert samples.count() == 3
    kick = samples.get(original_filename__startswith="BD_01")
    assert kick.tags == ["drums", "kicks"]
    assert "Analysed: 3 ready, 0 failed, 0 still waiting." in output
    assert set(samples.values_list("status", flat=True)) == {SampleStatus.READY}
    assert Collection.objects.get(owner=owner, name="Crate").items.count() == 3
    assert BatchJob.objects.get(owner=owner, kind="import").done == 3

    again = _run(str(tree), "--owner", "crate@example.com")
    assert "Imported 0 files, skipped 4 duplicates" in again


@pytest.mark.django_db
def test_import_explains_a_missing_owner_or_folder(tree, tmp_path):
    UserFactory(email="someone@example.com")

    with pytest.raises(CommandError, match="no account"):
        _run(str(tree), "--owner", "nobody@example.com")
    with pytest.raises(CommandError, match="not a folder"):
        _run(str(tmp_path / "missing"), "--owner", "someone@example.com")


def _queued(callbacks) -> set[str]:
    """Sample ids handed to the analysis queue once the transaction commits (alone or batched)."""
    ids = set()
    for callback in callbacks:
        if getattr(callback, "func", None) is queue._send:
            argument = callback.args[1]
            ids.update(argument if isinstance(argument, list) else [argument])
    return ids


@pytest.mark.django_db
def test_reanalyze_failed_queues_only_failed_samples(django_capture_on_commit_callbacks):
    failed = SampleFactory(status=SampleStatus.FAILED, error="boom")
    ready = SampleFactory(status=SampleStatus.READY)
    out = io.StringIO()

    with django_capture_on_commit_callbacks() as callbacks:
        call_command("reanalyze", "--failed", stdout=out, verbosity=0)

    assert "Queued 1 samples" in out.getvalue()
    assert _queued(callbacks) == {str(failed.pk)}
    failed.refresh_from_db()
    ready.refresh_from_db()
    assert failed.status == SampleStatus.PENDING and failed.error == ""
    assert ready.status == SampleStatus.READY


@pytest.mark.django_db
def test_reanalyze_outdated_queues_what_an_older_analyser_read(django_capture_on_commit_callbacks):
    from library.analysis import ANALYZER_VERSION

    old = SampleFactory(status=SampleStatus.READY, analyzer_version="1.1.0")
    current = SampleFactory(status=SampleStatus.READY, analyzer_version=ANALYZER_VERSION)
    out = io.StringIO()

    with django_capture_on_commit_callbacks() as callbacks:
        call_command("reanalyze", "--outdated", stdout=out, verbosity=0)

    assert "Queued 1 samples" in out.getvalue()
    assert _queued(callbacks) == {str(old.pk)}
    current.refresh_from_db()
    assert current.status == SampleStatus.READY


@pytest.mark.django_db(transaction=True)
def test_import_wait_prints_the_summary_when_every_file_is_a_duplicate(tree):
    UserFactory(email="crate@example.com")
    _run(str(tree), "--owner", "crate@example.com", "--wait")

    again = _run(str(tree), "--owner", "crate@example.com", "--wait")

    assert "Imported 0 files, skipped 4 duplicates" in again
    assert "Analysed: 3 ready, 0 failed, 0 still waiting." in again
    job = BatchJob.objects.filter(kind="import").order_by("-created_at").first()
    assert (job.total, job.failed) == (1, 1)  # broken.wav, still unreadable
    assert job.finished_at is not None


@pytest.mark.django_db
def test_reanalyze_owner_alone_queues_all_of_that_owners_samples_as_a_batch_job(
    client, django_capture_on_commit_callbacks
):
    from tests.factories import bearer

    owner = UserFactory(email="dj@example.com", role="pro")
    mine = [
        SampleFactory(owner=owner, status=SampleStatus.READY),
        SampleFactory(owner=owner, status=SampleStatus.FAILED, error="boom"),
    ]
    other = SampleFactory(status=SampleStatus.READY)
    out = io.StringIO()

    with django_capture_on_commit_callbacks() as callbacks:
        call_command("reanalyze", "--owner", "DJ@example.com", stdout=out, verbosity=0)

    assert "Queued 2 samples for analysis in 1 batch job(s)" in out.getvalue()
    assert _queued(callbacks) == {str(s.pk) for s in mine}
    assert {s.status for s in Sample.objects.filter(owner=owner)} == {SampleStatus.PENDING}
    other.refresh_from_db()
    assert other.status == SampleStatus.READY
    job = BatchJob.objects.get(owner=owner, kind="reanalyze")
    assert set(job.reanalysed.all()) == set(mine)
    progress = client.get(f"/api/v1/audio/batch/{job.pk}", **bearer(owner)).json()
    assert (progress["kind"], progress["total"], progress["done"]) == ("reanalyze", 2, 0)
    assert {row["id"] for row in progress["samples"]} == {str(s.pk) for s in mine}
    assert {row["status"] for row in progress["samples"]} == {"pending"}


def _analysed(sample, callbacks) -> str:
    """Analyse ``sample`` as a worker would: its job is recounted once the work commits."""
    from library.services.analysis import sample_analyze

    with callbacks(execute=True):
        return sample_analyze(sample_id=str(sample.pk))


def _good_and_bad(owner, tmp_path):
    from django.core.files.base import ContentFile

    good = SampleFactory(owner=owner)
    good.file.save("k.wav", ContentFile(audio.write(tmp_path / "k.wav", audio.kick()).read_bytes()))
    bad = SampleFactory(owner=owner)
    bad.file.save("bad.wav", ContentFile(b"RIFF....WAVEjunk"))
    return good, bad


@pytest.mark.django_db
def test_a_reanalysis_jobs_progress_follows_its_samples(
    tmp_path, django_capture_on_commit_callbacks
):
    from library.services.analysis import samples_reanalyze

    owner = UserFactory()
    good, bad = _good_and_bad(owner, tmp_path)

    (job,) = samples_reanalyze(samples=Sample.objects.filter(owner=owner))
    assert _analysed(good, django_capture_on_commit_callbacks) == "ready"
    job.refresh_from_db()
    assert (job.done, job.failed, job.finished_at) == (1, 0, None)
    assert _analysed(bad, django_capture_on_commit_callbacks) == "failed"

    job.refresh_from_db()
    assert (job.total, job.done, job.failed, job.status) == (2, 1, 1, "done")
    assert job.finished_at is not None


@pytest.mark.django_db
def test_a_large_jobs_progress_is_exact_whenever_it_is_read(
    client, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    from library.services import batches
    from library.services.analysis import samples_reanalyze
    from library.tasks import refresh_unfinished_batches

    # Any job counts as large here, recounted at most once a minute as analyses finish.
    monkeypatch.setattr(batches, "RECOUNT_EVERY_TIME_MAX", 1)
    monkeypatch.setattr(batches, "RECOUNT_INTERVAL_SECONDS", 60)
    owner = UserFactory()
    good, bad = _good_and_bad(owner, tmp_path)
    (job,) = samples_reanalyze(samples=Sample.objects.filter(owner=owner))
    assert _analysed(good, django_capture_on_commit_callbacks) == "ready"
    assert _analysed(bad, django_capture_on_commit_callbacks) == "failed"  # within the minute
    job.refresh_from_db()
    assert (job.done, job.failed) == (1, 0)  # not recounted yet

    progress = client.get(f"/api/v1/audio/batch/{job.pk}", **bearer(owner)).json()
    assert (progress["done"], progress["failed"], progress["status"]) == (1, 1, "done")

    # Nobody reading: the periodic task counts the last analyses.
    (second,) = samples_reanalyze(samples=Sample.objects.filter(owner=owner))
    BatchJob.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert _analysed(good, django_capture_on_commit_callbacks) == "ready"
    assert _analysed(bad, django_capture_on_commit_callbacks) == "failed"
    second.refresh_from_db()
    assert second.finished_at is None
    assert refresh_unfinished_batches() == 1
    second.refresh_from_db()
    assert (second.done, second.failed, second.status) == (1, 1, "done")


@pytest.mark.django_db
def test_reanalyze_needs_to_be_told_which_samples():
    with pytest.raises(CommandError, match="--all, --failed, --outdated or --owner"):
        call_command("reanalyze", stdout=io.StringIO(), verbosity=0)
