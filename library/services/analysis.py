"""The analysis pipeline: claim a sample, analyse it, store descriptors, preview and peaks."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import DatabaseError, transaction
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
from library.selectors import corrected_neighbours, samples_for_analysis
from library.services import steering
from library.services.batches import batch_jobs_refresh_for, batch_jobs_refresh_for_samples
from library.services.corrections import CONFIDENCE_OF
from library.services.queue import enqueue_analyses, enqueue_analysis
from samplemind.ops.locks import advisory_locks
from search.cache import generations_bump

logger = logging.getLogger(__name__)
# What the worker holds in memory: the excerpt that tempo, key, timbre and the
# preview need. The rest of the file only streams past the level and peak
# meters, so an hour-long upload costs the same memory as a minute-long one.
KEEP_SECONDS = max(EXCERPT_SECONDS, PREVIEW_MAX_SECONDS)
# The same file analysed again (re-uploaded elsewhere, re-queued) reuses its
# descriptors; the analyser version in the key retires old results.
ANALYSIS_CACHE_SECONDS = 7 * 24 * 3600
# Files up to this long are analysed again instead: a one-shot's analysis costs about what
# the cache's two round trips cost.
ANALYSIS_CACHE_MIN_SECONDS = 10.0
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


def _claim(sample_ids: list[str]) -> list[Sample]:
    """Mark the samples as being analysed; the ones there is something to do for.

    One conditional UPDATE takes them all (the caller's advisory locks keep a
    second copy of the task out meanwhile), one SELECT reads them back. It sends
    no signal and bumps no search cache: a listed sample's status polls its own
    view while it is being analysed.
    """
    now = timezone.now()
    Sample.objects.filter(
        pk__in=sample_ids, analysis_attempts__lt=settings.SAMPLEMIND_ANALYSIS_MAX_ATTEMPTS
    ).exclude(status=SampleStatus.READY, analyzer_version=analyser.ANALYZER_VERSION).update(
        status=SampleStatus.ANALYZING,
        analysis_attempts=F("analysis_attempts") + 1,
        analysis_started_at=now,
        updated_at=now,
    )
    claimed = {str(s.pk): s for s in samples_for_analysis(sample_ids=sample_ids, claimed_at=now)}
    if len(claimed) < len(sample_ids):
        _fail_exhausted([i for i in sample_ids if i not in claimed])
    return [claimed[i] for i in sample_ids if i in claimed]


def _fail_exhausted(sample_ids: list[str]) -> None:
    """Samples left unfinished by as many attempts as allowed (workers that died) fail."""
    with transaction.atomic():
        stuck = (
            Sample.objects.select_for_update(no_key=True)
            .filter(
                pk__in=sample_ids,
                analysis_attempts__gte=settings.SAMPLEMIND_ANALYSIS_MAX_ATTEMPTS,
            )
            .exclude(status__in=(SampleStatus.READY, SampleStatus.FAILED))
        )
        for sample in stuck:
            _store_failure(
                sample,
                f"Analysis stopped after {sample.analysis_attempts} attempts that did not finish.",
            )


def _lock_name(sample_id: str) -> str:
    return f"library.analyze_sample:{sample_id}"


def samples_analyze(*, sample_ids: Sequence[str]) -> dict[str, str]:
    """Analyse samples one after another; what happened to each ("ready", "failed", "skipped").

    A batch (of an import, a re-analysis) costs little more than its analyses:
    one statement takes the samples' locks, one claims them, one reads them;
    the results are stored in one transaction, and what follows stored analyses
    (search cache, the analysed hooks, batch job progress) runs once.

    Decoding problems are the file's fault and fail the sample at once with the
    reason; other errors (storage, database) propagate so the task retries,
    after what was read is stored and the samples not reached are handed back
    to the queue one by one.
    """
    sample_ids = list(dict.fromkeys(str(i) for i in sample_ids))
    outcomes = dict.fromkeys(sample_ids, "skipped")
    with (
        advisory_locks([_lock_name(i) for i in sample_ids]) as held,
        tempfile.TemporaryDirectory(prefix="samplemind-previews-") as folder,
    ):
        held = set(held)
        samples = _claim([i for i in sample_ids if _lock_name(i) in held])
        readings: list[Reading] = []
        try:
            for index, sample in enumerate(samples):
                try:
                    reading = _read(sample, Path(folder))
                except BaseException:
                    _hand_back(samples[index + 1 :])
                    raise
                if reading is None:
                    outcomes[str(sample.pk)] = "failed"
                else:
                    readings.append(reading)
        finally:
            stored = _store_readings(readings)
            outcomes.update((str(sample.pk), "ready") for sample in stored)
            _announce(stored)
    return outcomes


def sample_analyze(*, sample_id: str) -> str:
    """Analyse one sample; returns what happened ("ready", "failed", "skipped")."""
    return samples_analyze(sample_ids=[sample_id])[str(sample_id)]


@dataclass
class Reading:
    """What the worker read from one sample's file, before it is stored."""

    sample: Sample
    descriptors: dict
    peaks: list[float]
    preview: Path | None  # encoded by the worker for a longer file
    seconds: float


def _read(sample: Sample, folder: Path) -> Reading | None:
    """Decode and analyse one file; None when it does not decode (the sample has failed)."""
    started = time.perf_counter()
    with local_copy(sample.file) as path:
        try:
            audio = analyser.decode_audio(
                path, max_seconds=KEEP_SECONDS, levels_max_seconds=None, peaks=True
            )
            descriptors = _descriptors(audio, sample)
        except analyser.AudioDecodeError as exc:
            sample_analysis_failed(sample_id=str(sample.pk), reason=str(exc))
            return None
    preview = None
    if not preview_deferred(audio.duration):
        preview = folder / f"{sample.pk.hex}.ogg"
        analyser.write_preview(audio, preview)
    return Reading(
        sample=sample,
        descriptors=descriptors,
        peaks=analyser.waveform_peaks(audio),
        preview=preview,
        seconds=time.perf_counter() - started,
    )


def _hand_back(samples: list[Sample]) -> None:
    """Claimed samples a stopped batch did not reach: pending again, each queued on its own."""
    if not samples:
        return
    ids = [sample.pk for sample in samples]
    try:
        Sample.objects.filter(pk__in=ids, status=SampleStatus.ANALYZING).update(
            status=SampleStatus.PENDING,
            analysis_attempts=F("analysis_attempts") - 1,  # never started
            updated_at=timezone.now(),
        )
    except DatabaseError:
        # The database is away: the task's retry claims them again (or the stale re-queue).
        logger.warning("could not hand back %d samples", len(ids), exc_info=True)
        return
    for sample_id in ids:
        enqueue_analysis(str(sample_id))


def _announce(samples: list[Sample]) -> None:
    """After commit, once for analyses stored together: search cache, hooks, job progress."""
    if not samples:
        return
    owner_ids = sorted({sample.owner_id for sample in samples})
    public = any(sample.visibility == Visibility.PUBLIC for sample in samples)
    # update() sends no signal: retire the owners' cached search answers once, after commit
    # (a search meanwhile stores its answer under the generation it began with).
    transaction.on_commit(lambda: generations_bump(owner_ids=owner_ids, public=public), robust=True)
    for owner_id in owner_ids:
        for hook in ANALYSED_HOOKS:
            transaction.on_commit(lambda hook=hook, owner_id=owner_id: hook(owner_id), robust=True)
    batch_jobs_refresh_for_samples(samples=samples)


def preview_deferred(duration: float | None) -> bool:
    """Whether a file this long gets its preview on first play instead of from the worker."""
    return duration is not None and duration <= LAZY_PREVIEW_MAX_SECONDS


def _descriptors(audio, sample: Sample) -> dict:
    """Analyse, reusing a cached result for the same content, name and analyser version."""
    if audio.duration is not None and audio.duration <= ANALYSIS_CACHE_MIN_SECONDS:
        return analyser.analyze_audio(audio, filename=sample.original_filename)
    name_hash = hashlib.sha256(sample.original_filename.encode()).hexdigest()[:16]
    key = f"analysis:{analyser.ANALYZER_VERSION}:{sample.sha256}:{name_hash}"
    descriptors = cache.get(key)
    if descriptors is None:
        descriptors = analyser.analyze_audio(audio, filename=sample.original_filename)
        cache.set(key, descriptors, timeout=ANALYSIS_CACHE_SECONDS)
    return descriptors


def _store_readings(readings: list[Reading]) -> list[Sample]:
    """Store the readings in one transaction; the samples stored (not deleted meanwhile)."""
    if not readings:
        return []
    written: list[str] = []
    try:
        with transaction.atomic():
            stored = [r for r in readings if _store_reading(r, written)]
            AnalysisResult.objects.bulk_create(
                AnalysisResult(
                    sample_id=r.sample.pk,
                    analyzer_version=r.descriptors.get(
                        "analyzer_version", analyser.ANALYZER_VERSION
                    ),
                    status=SampleStatus.READY,
                    descriptors={k: v for k, v in r.descriptors.items() if k != "embedding"},
                    seconds=r.seconds,
                )
                for r in stored
            )
    except BaseException:
        # The rows were rolled back, so no row names the previews just stored.
        storage = Sample._meta.get_field("preview").storage
        for name in written:
            storage.delete(name)
        raise
    return [r.sample for r in stored]


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


def _store_reading(reading: Reading, written: list[str]) -> bool:
    """One sample's UPDATE (and its preview); False when the sample was deleted meanwhile."""
    sample = reading.sample
    old_preview = sample.preview.name if sample.preview else None
    columns = {}
    if reading.preview is not None:
        with open(reading.preview, "rb") as handle:
            sample.preview.save(f"{sample.pk.hex}.ogg", File(handle), save=False)
        written.append(sample.preview.name)
        columns["preview"] = sample.preview.name
    descriptors = reading.descriptors = _steered(sample, reading.descriptors)
    updated = Sample.objects.filter(pk=sample.pk).update(
        **_analysis_columns(descriptors),
        **columns,
        embedding=descriptors.get("embedding"),
        descriptors={k: v for k, v in descriptors.items() if k != "embedding"},
        waveform=reading.peaks,
        status=SampleStatus.READY,
        error="",
        analyzer_version=descriptors.get("analyzer_version", analyser.ANALYZER_VERSION),
        updated_at=timezone.now(),
    )
    if not updated:  # deleted while it was being analysed: no row names the new preview
        if reading.preview is not None:
            written.remove(sample.preview.name)
            sample.preview.storage.delete(sample.preview.name)
        return False
    if reading.preview is not None and old_preview and old_preview != sample.preview.name:
        storage = sample.preview.storage
        # Robust: a failure here must not reach _store_readings, which would delete the new one.
        transaction.on_commit(lambda: storage.delete(old_preview), robust=True)
    return True


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
    samples_analysis_failed(sample_ids=[sample_id], reason=reason)


def samples_analysis_failed(*, sample_ids: Sequence[str], reason: str) -> list[str]:
    """``sample_analysis_failed`` for each sample not analysed yet; the ids that failed."""
    return _fail(sample_ids, reason, ~Q(status=SampleStatus.READY))


def samples_analysis_stopped(*, sample_ids: Sequence[str], reason: str) -> list[str]:
    """A batch stopped by its time limit: the sample being analysed fails (the others
    were handed back); the ids that failed."""
    return _fail(sample_ids, reason, Q(status=SampleStatus.ANALYZING))


def _fail(sample_ids: Sequence[str], reason: str, which: Q) -> list[str]:
    with transaction.atomic():
        samples = Sample.objects.select_for_update(no_key=True).filter(which, pk__in=sample_ids)
        failed = []
        for sample in samples:
            _store_failure(sample, reason)
            failed.append(str(sample.pk))
    return failed


def sample_reanalyze(*, sample: Sample) -> None:
    """Queue a sample for analysis again, whatever its state."""
    _requeue(samples=[(sample.pk, sample.duration)], owner_id=sample.owner_id)


def _requeue(*, samples: list[tuple], owner_id: int, progress=None) -> None:
    """Reset one owner's samples ((id, duration) pairs) to ``pending`` and queue them,
    one on its own, several in batches."""
    ids = [sample_id for sample_id, _ in samples]
    Sample.objects.filter(pk__in=ids).update(
        status=SampleStatus.PENDING, analysis_attempts=0, error="", analyzer_version=""
    )
    # update() sends no signals: retire cached search answers that show the old state.
    generations_bump(owner_ids=[owner_id], public=True)
    if len(ids) == 1:
        enqueue_analysis(str(ids[0]))
    else:
        enqueue_analyses(samples)
    if progress is not None:
        for sample_id in ids:
            progress(sample_id)


def samples_reanalyze(*, samples: QuerySet[Sample], progress=None) -> list[BatchJob]:
    """Queue ``samples`` for analysis again, as one re-analysis batch job per owner.

    Each owner sees the job's progress like an upload's (``/api/v1/audio/batch/{id}``).
    ``progress``, if given, is called with each sample id as it is queued.
    """
    by_owner: dict[int, list] = {}
    rows = samples.order_by().values_list("pk", "owner_id", "duration").iterator()
    for sample_id, owner_id, duration in rows:
        by_owner.setdefault(owner_id, []).append((sample_id, duration))
    jobs = []
    for owner_id, pairs in by_owner.items():
        with transaction.atomic():
            job = BatchJob.objects.create(
                owner_id=owner_id,
                kind=BatchKind.REANALYZE,
                status=BatchStatus.RUNNING,
                total=len(pairs),
            )
            job.reanalysed.add(*(sample_id for sample_id, _ in pairs))
            _requeue(samples=pairs, owner_id=owner_id, progress=progress)
        jobs.append(job)
    return jobs


def samples_requeue_stuck() -> int:
    """Hand samples whose analysis stalled (worker killed, message lost) to a worker again."""
    stale = timezone.now() - timedelta(seconds=settings.SAMPLEMIND_ANALYSIS_STALE_SECONDS)
    stuck = Sample.objects.filter(
        Q(status=SampleStatus.ANALYZING, analysis_started_at__lt=stale)
        | Q(status=SampleStatus.PENDING, updated_at__lt=stale)
    ).values_list("pk", "duration")[:1000]
    stuck = list(stuck)
    if stuck:
        Sample.objects.filter(pk__in=[pk for pk, _ in stuck]).update(
            status=SampleStatus.PENDING, updated_at=timezone.now()
        )
        enqueue_analyses(stuck)
        logger.warning("re-queued %d stalled analyses", len(stuck))
    return len(stuck)
