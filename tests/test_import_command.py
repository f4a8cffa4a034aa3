"""`manage.py import_samples` and `reanalyze`: folder trees in, duplicates skipped, summary out."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from library.models import BatchJob, Collection, Sample, SampleStatus
from tests import audio
from tests.factories import SampleFactory, UserFactory


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


@pytest.mark.django_db
def test_reanalyze_failed_queues_only_failed_samples(django_capture_on_commit_callbacks):
    failed = SampleFactory(status=SampleStatus.FAILED, error="boom")
    ready = SampleFactory(status=SampleStatus.READY)
    out = io.StringIO()

    with django_capture_on_commit_callbacks() as callbacks:
        call_command("reanalyze", "--failed", stdout=out, verbosity=0)

    assert "Queued 1 samples" in out.getvalue()
    assert len(callbacks) == 1
    failed.refresh_from_db()
    ready.refresh_from_db()
    assert failed.status == SampleStatus.PENDING and failed.error == ""
    assert ready.status == SampleStatus.READY
