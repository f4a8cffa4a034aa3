"""From upload to "ready" through a real Celery worker: descriptors, preview, peaks."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from celery.app.routes import MapRoute
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import Role
from library.models import AnalysisResult, Sample, SampleStatus
from library.services.analysis import sample_analyze, samples_requeue_stuck
from samplemind.celery import app as celery_app
from tests import audio
from tests.conftest import start_worker
from tests.factories import SampleFactory, UserFactory, bearer, upload_file

FINISHED = {SampleStatus.READY, SampleStatus.FAILED}


def wait_for(sample_id, timeout: float = 120) -> Sample:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sample = Sample.objects.get(pk=sample_id)
        if sample.status in FINISHED:
            return sample
        time.sleep(0.25)
    pytest.fail(f"sample {sample_id} still {sample.status} after {timeout} s")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_becomes_ready_with_descriptors_preview_and_peaks(
    client, celery_worker_process, tmp_path
):
    user = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "Dusty Break 120.wav", audio.drum_loop(120, bars=2))

    created = upload_file(client, user, path).json()
    sample = wait_for(created["id"])

    assert sample.status == SampleStatus.READY, sample.error
    assert sample.bpm == pytest.approx(120, rel=0.04)
    assert sample.is_loop is True
    assert sample.category == "drum_loop"
    assert sample.duration == pytest.approx(4.0, abs=0.05)
    assert sample.embedding is not None and len(sample.embedding) == 64
    assert sample.descriptors["analyzer_version"] == sample.analyzer_version
    assert len(sample.waveform) > 100 and max(sample.waveform) <= 1.0
    assert not sample.preview  # a file this short gets its preview when first played
    assert AnalysisResult.objects.filter(sample=sample, status="ready").count() == 1
    detail = client.get(f"/api/v1/audio/{sample.pk}", **bearer(user)).json()
    assert detail["status"] == "ready" and detail["bpm"] == pytest.approx(120, rel=0.04)
    assert [name for name, _ in detail["category_top"]][0] == "drum_loop"
    assert len(detail["category_top"]) == 3 and 0 < detail["category_confidence"] <= 1
    assert detail["root_note"] is None
    preview = client.get(detail["preview_url"], **bearer(user))
    assert b"".join(preview.streaming_content)[:4] == b"OggS"
    sample.refresh_from_db()
    assert Path(sample.preview.path).exists()  # made once, then served as stored


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_stalled_analysis_is_handed_to_a_worker_again(celery_worker_process, tmp_path, settings):
    settings.SAMPLEMIND_ANALYSIS_STALE_SECONDS = 60
    sample = SampleFactory(
        owner=UserFactory(),
        status=SampleStatus.ANALYZING,
        analysis_attempts=1,
        analysis_started_at=timezone.now() - timedelta(minutes=5),
    )
    data = audio.write(tmp_path / "k.wav", audio.kick()).read_bytes()
    sample.file.save("k.wav", ContentFile(data), save=True)
    Sample.objects.filter(pk=sample.pk).update(
        analysis_started_at=timezone.now() - timedelta(minutes=5)
    )

    assert samples_requeue_stuck() == 1
    finished = wait_for(sample.pk)

    assert finished.status == SampleStatus.READY, finished.error
    assert finished.category == "kick"


def _start_worker(queue: str, services: dict, log: Path, **env: str) -> subprocess.Popen:
    """A worker on ``queue`` alone, in its own process group (so all of it can be killed)."""
    process, _hostname = start_worker(services, log, queues=queue, own_session=True, **env)
    return process


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool processes: nothing gets to clean up or acknowledge."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_sample_whose_worker_is_killed_mid_analysis_is_ready_after_a_worker_returns(
    client, test_services, tmp_path, monkeypatch
):
    # A queue of its own, so the session's shared worker cannot take the task instead.
    queue = f"analysis-kill-{uuid.uuid4().hex[:8]}"
    router = celery_app.amqp.router
    monkeypatch.setattr(
        router, "routes", [MapRoute({"library.analyze_sample": {"queue": queue}}), *router.routes]
    )
    log = tmp_path / "workers.log"
    # Long enough (5 minutes of a stereo loop) that analysis is still running when killed.
    loop = audio.drum_loop(120, bars=2)
    track = np.tile(loop, 75)
    path = audio.write(tmp_path / "Long Session.wav", np.stack([track, track[::-1]], axis=1))
    first = _start_worker(queue, test_services, log)
    second = None
    try:
        created = upload_file(client, UserFactory(role=Role.PRO), path).json()
        deadline = time.monotonic() + 60
        while Sample.objects.get(pk=created["id"]).status != SampleStatus.ANALYZING:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.02)
        _kill(first)

        killed = Sample.objects.get(pk=created["id"])
        assert killed.status == SampleStatus.ANALYZING  # the kill came mid-analysis
        assert killed.analysis_attempts == 1
        # The task was never acknowledged: Redis holds it for redelivery. The short
        # visibility timeout stands in for production's 12 minutes.
        second = _start_worker(queue, test_services, log, CELERY_VISIBILITY_TIMEOUT="3")
        finished = wait_for(created["id"], timeout=90)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                _kill(process)

    assert finished.status == SampleStatus.READY, finished.error
    assert finished.analysis_attempts == 2
    assert finished.duration == pytest.approx(300, abs=1)
    assert AnalysisResult.objects.filter(sample=finished, status="ready").count() == 1


@pytest.mark.django_db
def test_a_file_that_fails_to_decode_is_marked_failed_with_its_reason():
    sample = SampleFactory(status=SampleStatus.PENDING)
    sample.file.save("bad.wav", ContentFile(b"RIFF\x00\x00garbage that is not audio"), save=True)

    outcome = sample_analyze(sample_id=str(sample.pk))

    sample.refresh_from_db()
    assert outcome == "failed"
    assert sample.status == SampleStatus.FAILED
    assert sample.error
    assert AnalysisResult.objects.get(sample=sample).status == "failed"


@pytest.mark.django_db
def test_analysis_is_idempotent_and_stops_after_repeated_crashes(settings, tmp_path):
    sample = SampleFactory(status=SampleStatus.PENDING)
    sample.file.save(
        "k.wav", ContentFile(audio.write(tmp_path / "k.wav", audio.kick()).read_bytes()), save=True
    )

    assert sample_analyze(sample_id=str(sample.pk)) == "ready"
    assert sample_analyze(sample_id=str(sample.pk)) == "skipped"  # a repeated delivery
    assert AnalysisResult.objects.filter(sample=sample).count() == 1

    crashing = SampleFactory(
        status=SampleStatus.ANALYZING, analysis_attempts=settings.SAMPLEMIND_ANALYSIS_MAX_ATTEMPTS
    )
    assert sample_analyze(sample_id=str(crashing.pk)) == "skipped"
    crashing.refresh_from_db()
    assert crashing.status == SampleStatus.FAILED
    assert "attempts" in crashing.error


@pytest.mark.django_db
def test_a_sample_deleted_before_its_analysis_is_skipped():
    assert sample_analyze(sample_id="00000000-0000-0000-0000-000000000000") == "skipped"
