"""Batch job bookkeeping: counts always recomputed from the samples themselves."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from library.models import BatchJob, BatchStatus, SampleStatus


def batch_job_refresh(*, job: BatchJob) -> BatchJob:
    """Recount a job from its samples and its recorded upload failures."""
    counts = job.samples.aggregate(
        ready=Count("pk", filter=Q(status=SampleStatus.READY)),
        failed=Count("pk", filter=Q(status=SampleStatus.FAILED)),
    )
    rejected = sum(1 for entry in job.errors if entry.get("code") != "skipped")
    job.done = counts["ready"]
    job.failed = counts["failed"] + rejected
    finished = job.done + job.failed >= job.total
    if finished and job.finished_at is None:
        job.finished_at = timezone.now()
        job.status = BatchStatus.DONE if job.done else BatchStatus.FAILED
    BatchJob.objects.filter(pk=job.pk).update(
        done=job.done, failed=job.failed, status=job.status, finished_at=job.finished_at
    )
    return job
