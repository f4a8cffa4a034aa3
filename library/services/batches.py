"""Batch job bookkeeping: counts always recomputed from the samples themselves."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from library.models import BatchJob, BatchKind, BatchStatus, Sample, SampleStatus


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
    """Recount every unfinished job that follows ``sample`` (its upload's and re-analyses)."""
    if sample.batch_id:
        batch_job_refresh(job=sample.batch)
    for job in sample.reanalysis_jobs.filter(finished_at__isnull=True):
        batch_job_refresh(job=job)
