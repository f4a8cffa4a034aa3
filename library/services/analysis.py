"""The analysis pipeline: claim a sample, analyse it, store descriptors, preview and peaks."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from library import analysis as analyser
from library.analysis.descriptors import EXCERPT_SECONDS
from library.analysis.preview import PREVIEW_MAX_SECONDS
from library.models import (
    CORRECTABLE,
    AnalysisResult,
    BatchJob,
    BatchKind,
    BatchStatus,
    Sample,
    SampleStatus,
    Visibility,
)
from library.selectors import corrected_neighbours, sample_for_analysis
from library.services import steering
from library.services.batches import batch_jobs_refresh_for
from library.services.corrections import CONFIDENCE_OF
from library.services.queue import enqueue_analysis
from search.cache import generations_bump

logger = logging.getLogger(__name__)
# What the worker holds in memory: the excerpt that tempo, key, timbre and the
# preview need. The rest of the file only streams past the level and peak
# meters, so an hour-long upload costs the same memory as a minute-long one.
KEEP_SECONDS = max(EXCERPT_SECONDS, PREVIEW_MAX_SECONDS)
# The same file analysed again (re-uploaded elsewhere, re-queued) reuses its
# descriptors; the analyser version in the key retires old results.
ANALYSIS_CACHE_SECONDS = 7 * 24 * 3600
# Called with the owner's id after an analysis is stored (after commit); other apps
# add to it in their AppConfig.ready() (organise redraws the sound map), the library imports none.
ANALYSED_HOOKS: list[Callable[[int], None]] = []
# Files up to this long get their preview when someone first plays one
# (``library.services.previews``), not from the worker: encoding it costs about
# what the whole analysis of a one-shot costs, and most one-shots of a large
# import are never auditioned. Longer files are encoded here, from the audio
# the worker already holds.
LAZY_PREVIEW_MAX_SECONDS = 10.0

PROMOTED = (
    "bpm",
    "bpm_confidence",
    "key",
    "mode",
    "key_confidence",
    "loudness_lufs",
    "peak_db",
    "is_loop",
    "category",
    "duration",
    "sample_rate",
    "channels",
    "bit_depth",
)


@contextmanager
def local_copy(field: FieldFile) -> Iterator[Path]:
    """A local path for a stored file: the file itself on disk storage, else a temporary copy."""
    try:
        yield Path(field.path)
        return
    except NotImplementedError:  # remote storage (S3) has no path
        pass
    folder = Path(tempfile.mkdtemp(prefix="samplemind-analysis-"))
    try:
        target = folder / ("original" + Path(field.name).suffix)
        with field.storage.open(field.name, "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _claim(sample_id: str) -> Sample | None:
    """Mark the sample as being analysed; None when there is nothing to do.

    One conditional UPDATE takes it (the task's advisory lock keeps a second
    copy out meanwhile). It sends no signal and bumps no search cache: a
    listed sample's status polls its own view while it is being analysed.
    """
    now = timezone.now()
    taken = (
        Sample.objects.filter(
            pk=sample_id, analysis_attempts__lt=settings.SAMPLEMIND_ANALYSIS_MAX_ATTEMPTS
        )
        .exclude(status=SampleStatus.READY, analyzer_version=analyser.ANALYZER_VERSION)
        .update(
            status=SampleStatus.ANALYZING,
            analysis_attempts=F("analysis_attempts") + 1,
            analysis_started_at=now,
            updated_at=now,
        )
    )
    if taken:
        return sample_for_analysis(sample_id=sample_id)
    with transaction.atomic():
        sample = Sample.objects.select_for_update(no_key=True).filter(pk=sample_id).first()
        if (
            sample is not None
            and sample.analysis_attempts >= settings.SAMPLEMIND_ANALYSIS_MAX_ATTEMPTS
            and sample.status not in (SampleStatus.READY, SampleStatus.FAILED)
        ):
            _store_failure(
                sample,
                f"Analysis stopped after {sample.analysis_attempts} attempts that did not finish.",
            )
    return None


def sample_analyze(*, sample_id: str) -> str:
    """Analyse one sample; returns what happened ("ready", "failed", "skipped").

    Decoding problems are the file's fault and fail the sample at once with the
    reason; other errors (storage, database) propagate so the task retries.
    """
    sample = _claim(sample_id)
    if sample is None:
        return "skipped"
    started = timezone.now()
    folder = Path(tempfile.mkdtemp(prefix="samplemind-preview-"))
    try:
        with local_copy(sample.file) as path:
            try:
                audio = analyser.decode_audio(
                    path, max_seconds=KEEP_SECONDS, levels_max_seconds=None, peaks=True
                )
                descriptors = _descriptors(audio, sample)
            except analyser.AudioDecodeError as exc:
                sample_analysis_failed(sample_id=sample_id, reason=str(exc))
                return "failed"
            peaks = analyser.waveform_peaks(audio)
            preview = None
            if not preview_deferred(audio.duration):
                preview = folder / "preview.ogg"
                analyser.write_preview(audio, preview)
        try:
            _store_success(sample, descriptors, peaks, preview, started)
        except SampleGone:
            return "skipped"
        return "ready"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def preview_deferred(duration: float | None) -> bool:
    """Whether a file this long gets its preview on first play instead of from the worker."""
    return duration is not None and duration <= LAZY_PREVIEW_MAX_SECONDS


def _descriptors(audio, sample: Sample) -> dict:
    """Analyse, reusing a cached result for the same content, name and analyser version."""
    name_hash = hashlib.sha256(sample.original_filename.encode()).hexdigest()[:16]
    key = f"analysis:{analyser.ANALYZER_VERSION}:{sample.sha256}:{name_hash}"
    descriptors = cache.get(key)
    if descriptors is None:
        descriptors = analyser.analyze_audio(audio, filename=sample.original_filename)
        cache.set(key, descriptors, timeout=ANALYSIS_CACHE_SECONDS)
    return descriptors


def _store_success(
    sample: Sample, descriptors: dict, peaks: list[float], preview: Path | None, started
) -> None:
    written: list[str] = []
    try:
        _store_success_atomic(sample, descriptors, peaks, preview, started, written)
    except BaseException:
        # The row was rolled back, so no row names the preview just stored.
        storage = Sample._meta.get_field("preview").storage
        for name in written:
            storage.delete(name)
        raise


def _analysis_columns(descriptors: dict) -> dict:
    """What one UPDATE writes for an analysis; the producer's corrections win.

    A correctable column keeps its value where the row's ``corrections`` name
    its field (a confidence column goes with its field), read by the UPDATE
    itself, so a correction saved while the file was being analysed is kept
    too; the reading stays in ``descriptors``.
    """
    values = {f: descriptors[f] for f in PROMOTED if descriptors.get(f) is not None}
    for field in ("bpm", "bpm_confidence", "key", "mode", "key_confidence"):
        values[field] = descriptors.get(field)  # None is a result here
    guarded_by = {column: field for field, column in CONFIDENCE_OF.items()}
    guarded_by.update({field: field for field in CORRECTABLE})
    columns = {}
    for column, value in values.items():
        field = guarded_by.get(column)
        if field is None:
            columns[column] = value
            continue
        value = Value(value, output_field=Sample._meta.get_field(column))
        columns[column] = Case(When(corrections__has_key=field, then=F(column)), default=value)
    return columns


@transaction.atomic
def _store_success_atomic(
    sample: Sample,
    descriptors: dict,
    peaks: list[float],
    preview: Path | None,
    started,
    written: list[str],
) -> None:
    old_preview = sample.preview.name if sample.preview else None
    columns = {}
    if preview is not None:
        with open(preview, "rb") as handle:
            sample.preview.save(f"{sample.pk.hex}{preview.suffix}", File(handle), save=False)
        written.append(sample.preview.name)
        columns["preview"] = sample.preview.name
    descriptors = _steered(sample, descriptors)
    version = descriptors.get("analyzer_version", analyser.ANALYZER_VERSION)
    stored = {k: v for k, v in descriptors.items() if k != "embedding"}
    updated = Sample.objects.filter(pk=sample.pk).update(
        **_analysis_columns(descriptors),
        **columns,
        embedding=descriptors.get("embedding"),
        descriptors=stored,
        waveform=peaks,
        status=SampleStatus.READY,
        error="",
        analyzer_version=version,
        updated_at=timezone.now(),
    )
    if not updated:  # deleted while it was being analysed
        raise SampleGone
    AnalysisResult.objects.create(
        sample_id=sample.pk,
        analyzer_version=version,
        status=SampleStatus.READY,
        descriptors=stored,
        seconds=(timezone.now() - started).total_seconds(),
    )
    if preview is not None and old_preview and old_preview != sample.preview.name:
        storage = sample.preview.storage
        # Robust: a failure here must not reach _store_success, which would delete the new one.
        transaction.on_commit(lambda: storage.delete(old_preview), robust=True)
    # update() sends no signal: retire the owner's cached search answers once, after commit
    # (a search meanwhile stores its answer under the generation it began with).
    owner_id, public = sample.owner_id, sample.visibility == Visibility.PUBLIC
    transaction.on_commit(
        lambda: generations_bump(owner_ids=[owner_id], public=public), robust=True
    )
    for hook in ANALYSED_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(owner_id), robust=True)
    batch_jobs_refresh_for(sample=sample)


class SampleGone(Exception):
    """The sample was deleted while it was being analysed."""


def _steered(sample: Sample, descriptors: dict) -> dict:
    """The category leaning to the owner's corrections of near-identical sounds.

    Applied after the cache (the same file in another library has other
    examples); a sample whose own category is corrected needs no vote.
    """
    vector = descriptors.get("embedding")
    if not vector or "category" in sample.corrections:
        return descriptors
    # Most libraries have no corrections to learn from: the claim asked (``steerable``),
    # which spares the nearest-neighbour query for each of their analyses.
    if not getattr(sample, "steerable", True):
        return descriptors
    neighbours = corrected_neighbours(
        owner_id=sample.owner_id,
        vector=vector,
        max_distance=steering.MAX_DISTANCE,
        k=steering.NEIGHBOURS,
        exclude=sample.pk,
    )
    return steering.category_steer(descriptors, neighbours) if neighbours else descriptors


def _store_failure(sample: Sample, reason: str) -> None:
    sample.status = SampleStatus.FAILED
    sample.error = reason[:2000]
    sample.save(update_fields=["status", "error", "updated_at"])
    generations_bump(owner_ids=[sample.owner_id], public=sample.visibility == Visibility.PUBLIC)
    AnalysisResult.objects.create(
        sample=sample,
        analyzer_version=analyser.ANALYZER_VERSION,
        status=SampleStatus.FAILED,
        error=reason,
    )
    batch_jobs_refresh_for(sample=sample)


def sample_analysis_failed(*, sample_id: str, reason: str) -> None:
    """Record a failure with its reason (the file's fault, or retries used up)."""
    with transaction.atomic():
        sample = Sample.objects.select_for_update(no_key=True).filter(pk=sample_id).first()
        if sample is not None and sample.status != SampleStatus.READY:
            _store_failure(sample, reason)


def sample_reanalyze(*, sample: Sample) -> None:
    """Queue a sample for analysis again, whatever its state."""
    _requeue(ids=[sample.pk], owner_id=sample.owner_id)


def _requeue(*, ids: list, owner_id: int, progress=None) -> None:
    """Reset one owner's samples to ``pending`` and hand each to the analysis queue."""
    Sample.objects.filter(pk__in=ids).update(
        status=SampleStatus.PENDING, analysis_attempts=0, error="", analyzer_version=""
    )
    # update() sends no signals: retire cached search answers that show the old state.
    generations_bump(owner_ids=[owner_id], public=True)
    for sample_id in ids:
        enqueue_analysis(str(sample_id))
        if progress is not None:
            progress(sample_id)


def samples_reanalyze(*, samples: QuerySet[Sample], progress=None) -> list[BatchJob]:
    """Queue ``samples`` for analysis again, as one re-analysis batch job per owner.

    Each owner sees the job's progress like an upload's (``/api/v1/audio/batch/{id}``).
    ``progress``, if given, is called with each sample id as it is queued.
    """
    by_owner: dict[int, list] = {}
    for sample_id, owner_id in samples.order_by().values_list("pk", "owner_id").iterator():
        by_owner.setdefault(owner_id, []).append(sample_id)
    jobs = []
    for owner_id, ids in by_owner.items():
        with transaction.atomic():
            job = BatchJob.objects.create(
                owner_id=owner_id,
                kind=BatchKind.REANALYZE,
                status=BatchStatus.RUNNING,
                total=len(ids),
            )
            job.reanalysed.add(*ids)
            _requeue(ids=ids, owner_id=owner_id, progress=progress)
        jobs.append(job)
    return jobs


def samples_requeue_stuck() -> int:
    """Hand samples whose analysis stalled (worker killed, message lost) to a worker again."""
    stale = timezone.now() - timedelta(seconds=settings.SAMPLEMIND_ANALYSIS_STALE_SECONDS)
    stuck = Sample.objects.filter(
        Q(status=SampleStatus.ANALYZING, analysis_started_at__lt=stale)
        | Q(status=SampleStatus.PENDING, updated_at__lt=stale)
    ).values_list("pk", flat=True)[:1000]
    ids = [str(pk) for pk in stuck]
    if ids:
        Sample.objects.filter(pk__in=ids).update(
            status=SampleStatus.PENDING, updated_at=timezone.now()
        )
        for sample_id in ids:
            enqueue_analysis(sample_id)
        logger.warning("re-queued %d stalled analyses", len(ids))
    return len(ids)
