"""Ingest at the speed of analysis: imports in chunks, previews on first play, lean writes.

What a producer must not notice: every file stored once, search finding the
imported sounds at once, previews that play (and never hand a visitor the
original), and corrections that survive an analysis running meanwhile.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Role
from library.models import AnalysisResult, BatchJob, Sample
from library.services import analysis, imports
from library.services.analysis import sample_analyze
from library.services.corrections import sample_correct
from samplemind.ops.locks import advisory_lock
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer, upload_file


def _previews(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "previews"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _search(client, user, q: str | dict) -> set[str]:
    query = q if isinstance(q, dict) else {"q": q}
    response = client.get("/api/v1/search", query, **bearer(user))
    assert response.status_code == 200, response.content
    return {hit["name"] for hit in response.json()["results"]}


@pytest.mark.django_db(transaction=True)
def test_an_import_in_chunks_stores_each_sound_once_and_search_finds_it_at_once(
    client, tmp_path, monkeypatch
):
    monkeypatch.setattr(imports, "CHUNK_FILES", 2)
    owner = UserFactory(email="crate@example.com", role=Role.PRO)
    held = audio.write(tmp_path / "held.wav", audio.hihat())
    earlier = upload_file(client, owner, held).json()
    root = tmp_path / "Pack"
    audio.write(root / "Kicks" / "Boomy_Kick.wav", audio.kick())
    audio.write(root / "Snares" / "Crack_Snare.wav", audio.snare())
    (root / "Tops").mkdir()
    (root / "Tops" / "Boomy_copy.wav").write_bytes(
        (root / "Kicks" / "Boomy_Kick.wav").read_bytes()  # the same sound, a later chunk
    )
    (root / "Hats" / "Old_Hat.wav").parent.mkdir()
    (root / "Hats" / "Old_Hat.wav").write_bytes(held.read_bytes())  # already in the library
    (root / "Hats" / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    assert _search(client, owner, "boomy") == set()  # an answer now in the search cache

    out = io.StringIO()
    call_command("import_samples", str(root), "--owner", owner.email, stdout=out, verbosity=0)

    assert "Imported 2 files, skipped 2 duplicates, 1 could not be read." in out.getvalue()
    names = sorted(Sample.objects.filter(owner=owner).values_list("name", flat=True))
    assert names == ["Boomy Kick", "Crack Snare", "held"]
    kick = Sample.objects.get(owner=owner, name="Boomy Kick")
    assert kick.tags == ["kicks"] and kick.batch.kind == "import"
    assert _search(client, owner, "boomy") == {"Boomy Kick"}
    assert _search(client, owner, "crack") == {"Crack Snare"}
    job = BatchJob.objects.get(owner=owner, kind="import")
    assert job.total == 3 and job.errors[0]["file"] == "Hats/broken.wav"
    assert earlier["id"] in {str(pk) for pk in Sample.objects.values_list("pk", flat=True)}


@pytest.mark.django_db
def test_a_visitor_hears_an_ogg_preview_of_a_public_one_shot_made_on_first_play(
    client, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    owner = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "Clap.wav", audio.clap())
    sample_id = upload_file(client, owner, path).json()["id"]
    assert sample_analyze(sample_id=sample_id) == "ready"
    Sample.objects.filter(pk=sample_id).update(visibility="public")
    assert _previews(settings) == []  # the worker left it to the first play

    first = client.get(f"/library/samples/{sample_id}/preview")  # a visitor
    second = client.get(f"/library/samples/{sample_id}/preview")

    assert first.status_code == second.status_code == 200
    heard = b"".join(first.streaming_content)
    assert heard[:4] == b"OggS" and heard != path.read_bytes()  # never the original
    assert b"".join(second.streaming_content) == heard
    assert len(_previews(settings)) == 1
    detail = client.get(f"/api/v1/audio/{sample_id}", **bearer(owner)).json()
    assert detail["preview_url"].endswith(f"/audio/{sample_id}/preview")


@pytest.mark.django_db
def test_the_worker_encodes_the_preview_of_a_longer_file(client, tmp_path, settings, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    monkeypatch.setattr(analysis, "LAZY_PREVIEW_MAX_SECONDS", 2.0)
    owner = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "Break.wav", audio.drum_loop(120, bars=2))  # 4 s
    sample_id = upload_file(client, owner, path).json()["id"]

    assert sample_analyze(sample_id=sample_id) == "ready"

    sample = Sample.objects.get(pk=sample_id)
    with sample.preview.open("rb") as handle:
        assert handle.read(4) == b"OggS"


@pytest.mark.django_db
def test_a_correction_saved_while_the_file_is_analysed_is_kept(client, tmp_path, monkeypatch):
    owner = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "Kick.wav", audio.kick())
    sample_id = upload_file(client, owner, path).json()["id"]
    read, readings = analysis._descriptors, []

    def read_while_the_producer_corrects(audio_, sample):
        descriptors = read(audio_, sample)
        readings.append(descriptors)
        sample_correct(
            sample=Sample.objects.get(pk=sample.pk),
            actor=owner,
            changes={"category": "tom", "bpm": 96},
        )
        return descriptors

    monkeypatch.setattr(analysis, "_descriptors", read_while_the_producer_corrects)

    assert sample_analyze(sample_id=sample_id) == "ready"

    sample = Sample.objects.get(pk=sample_id)
    assert (sample.category, sample.bpm, sample.bpm_confidence) == ("tom", 96, 1.0)
    assert sample.corrections == {"category": "tom", "bpm": 96}
    assert sample.descriptors["category"] == readings[0]["category"]  # the reading stays
    assert sample.loudness_lufs is not None and sample.status == "ready"
    assert AnalysisResult.objects.filter(sample=sample, status="ready").count() == 1


def _pending(owner, tmp_path, sounds: dict) -> list[str]:
    """Samples stored as an upload leaves them, but never queued: the suite's Celery worker
    (alive after earlier tests) must not analyse them before the test does."""
    return [
        str(
            SampleFactory(
                owner=owner,
                name=name,
                status="pending",
                file__filename=f"{name}.wav",
                file__data=audio.write(tmp_path / f"{name}.wav", sound).read_bytes(),
            ).pk
        )
        for name, sound in sounds.items()
    ]


class _AnotherWorker(threading.Thread):
    """Holds a sample's analysis lock from its own database session, as a busy worker does."""

    def __init__(self, sample_id: str) -> None:
        super().__init__(daemon=True)
        self.sample_id, self.holding, self.release = sample_id, threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with advisory_lock(f"library.analyze_sample:{self.sample_id}"):
                self.holding.set()
                self.release.wait(30)
        finally:
            connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_analysed_once_whoever_else_holds_part_of_it(client, tmp_path):
    owner = UserFactory(role=Role.PRO)
    sounds = {"Kick": audio.kick(), "Snare": audio.snare(), "Hat": audio.hihat()}
    ids = dict(zip(sounds, _pending(owner, tmp_path, sounds), strict=True))
    kicks = {"category": "kick"}
    assert _search(client, owner, kicks) == set()  # before analysis: an answer now cached
    busy = _AnotherWorker(ids["Hat"])
    busy.start()
    assert busy.holding.wait(10)
    try:
        first = analysis.samples_analyze(sample_ids=list(ids.values()))
    finally:
        busy.release.set()
        busy.join()

    assert first == {ids["Kick"]: "ready", ids["Snare"]: "ready", ids["Hat"]: "skipped"}
    assert Sample.objects.get(pk=ids["Hat"]).status == "pending"  # left to its own worker
    # A second delivery of the batch (a redelivered message, the stale re-queue).
    second = analysis.samples_analyze(sample_ids=list(ids.values()))
    assert second == {ids["Kick"]: "skipped", ids["Snare"]: "skipped", ids["Hat"]: "ready"}
    for sample in Sample.objects.filter(owner=owner):
        assert sample.status == "ready" and sample.analysis_attempts == 1
        assert AnalysisResult.objects.filter(sample=sample, status="ready").count() == 1
    assert _search(client, owner, kicks) == {"Kick"}  # the cached answer was retired


@pytest.mark.django_db(transaction=True)
def test_an_import_hands_its_files_to_the_workers_in_batches(tmp_path, monkeypatch):
    from library.services import queue

    monkeypatch.setattr(queue, "BATCH_FILES", 2)
    owner = UserFactory(role=Role.PRO)
    root = tmp_path / "Pack"
    sounds = (audio.kick(), audio.snare(), audio.hihat(), audio.clap(), audio.chord(60))
    for index, sound in enumerate(sounds):
        audio.write(root / f"hit_{index}.wav", sound)

    sent = []
    monkeypatch.setattr(queue, "_send", lambda task, argument: sent.append((task, argument)))
    call_command("import_samples", str(root), "--owner", owner.email, verbosity=0)

    assert [task for task, _ in sent] == ["library.analyze_samples"] * 3
    assert [len(argument) for _, argument in sent] == [2, 2, 1]
    queued = {sample_id for _, argument in sent for sample_id in argument}
    stored = Sample.objects.filter(owner=owner).values_list("pk", flat=True)
    assert queued == {str(pk) for pk in stored}


@pytest.mark.django_db(transaction=True)
def test_a_batch_stopped_by_its_time_limit_keeps_what_it_read_and_hands_back_the_rest(
    client, tmp_path, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    from library.services import queue
    from library.tasks import analyze_samples

    owner = UserFactory(role=Role.PRO)
    sounds = {"Kick": audio.kick(), "Snare": audio.snare(), "Hat": audio.hihat()}
    ids = _pending(owner, tmp_path, sounds)
    read = analysis._read

    def endless_snare(sample, folder):
        if str(sample.pk) == ids[1]:
            raise SoftTimeLimitExceeded()
        return read(sample, folder)

    monkeypatch.setattr(analysis, "_read", endless_snare)
    sent = []
    monkeypatch.setattr(queue, "_send", lambda task, argument: sent.append((task, argument)))

    analyze_samples(ids)

    kick, snare, hat = (Sample.objects.get(pk=sample_id) for sample_id in ids)
    assert kick.status == "ready" and kick.category
    assert snare.status == "failed" and "took too long" in snare.error
    assert (hat.status, hat.analysis_attempts) == ("pending", 0)
    assert sent == [("library.analyze_sample", ids[2])]  # queued again on its own
