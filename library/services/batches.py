"""Batch job bookkeeping: counts always recomputed from the samples themselves.

A recount reads every sample the job follows (100 ms for a re-analysis of
100,000 samples), so a large job is recounted at most once a second as its
analyses finish, not after each of them; whoever reads an unfinished job, and
a periodic task, recount it too, so its last analyses are never left
uncounted. Recounts run after the analysis's transaction commits: two
analyses finishing together then cannot each miss the other's result and
leave the job unfinished.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from library.models import BatchJob, BatchKind, BatchStatus, Sample, SampleStatus

# Jobs up to this many files are recounted after every analysis; larger ones at most
# once per RECOUNT_INTERVAL_SECONDS.
RECOUNT_EVERY_TIME_MAX = 500
RECOUNT_INTERVAL_SECONDS = 1


def batch_job_refresh(*, job: BatchJob) -> BatchJob:
    """Recount a job from its samples and its recorded upload failures."""
    counts = job.tracked_samples.aggregate(
        total=Count("pk"),
        ready=Count("pk", filter=Q(status=SampleStatus.READY)),
        failed=Count("pk", filter=Q(status=SampleStatus.FAILED)),
    )
    if job.kind == BatchKind.REANALYZE:
        job.total = counts["total"]  # samples deleted meanwhile leave the job
    rejected = sum(1 for entry in job.errors if entry.get("code") != "skipped")
    job.done = counts["ready"]
    job.failed = counts["failed"] + rejected
    finished = job.done + job.failed >= job.total
    if finished and job.finished_at is None:
        job.finished_at = timezone.now()
        # A job with nothing left to do (every file a duplicate) is done, not failed.
        job.status = BatchStatus.DONE if job.done or not job.failed else BatchStatus.FAILED
    BatchJob.objects.filter(pk=job.pk).update(
        total=job.total,
        done=job.done,
        failed=job.failed,
        status=job.status,
        finished_at=job.finished_at,
    )
    return job


def batch_jobs_refresh_for(*, sample: Sample) -> None:
    """After commit, recount the jobs following ``sample``: its upload's, unfinished re-analyses."""
    batch_jobs_refresh_for_samples(samples=[sample])


def batch_jobs_refresh_for_samples(*, samples: list[Sample]) -> None:
    """``batch_jobs_refresh_for`` for samples analysed together: each job recounted once."""
    sample_ids = [sample.pk for sample in samples]
    batch_ids = {sample.batch_id for sample in samples if sample.batch_id}
    transaction.on_commit(lambda: _refresh_jobs_of(sample_ids, batch_ids), robust=True)


def _refresh_jobs_of(sample_ids: list, batch_ids: set) -> None:
    jobs = BatchJob.objects.filter(
        Q(pk__in=batch_ids)
        | Q(kind=BatchKind.REANALYZE, reanalysed__in=sample_ids, finished_at__isnull=True)
    ).distinct()
    for job in jobs:
        if job.total <= RECOUNT_EVERY_TIME_MAX or _recount_due(job):
            batch_job_refresh(job=job)


def _recount_due(job: BatchJob) -> bool:
    # add() is False while another recount of this job is under a second old; None
    # (Redis unavailable) recounts every time, as small jobs always do.
    key = f"batch-recount:{job.pk}"
    return cache.add(key, 1, timeout=RECOUNT_INTERVAL_SECONDS) is not False


def batch_jobs_refresh_unfinished(*, older_than_seconds: float = 5) -> int:
    """Recount unfinished jobs made more than a few seconds ago; returns how many."""
    made_before = timezone.now() - timedelta(seconds=older_than_seconds)
    jobs = BatchJob.objects.filter(finished_at__isnull=True, created_at__lt=made_before)
    count = 0
    for job in jobs.iterator():
        batch_job_refresh(job=job)
        count += 1
    return count
