"""Celery tasks for the library: thin wrappers around the analysis services."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from library.services import analysis, batches
from samplemind.ops.locks import advisory_lock

logger = logging.getLogger(__name__)

TRANSIENT = (OSError, OperationalError, InterfaceError)


class AnalysisTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Retries used up, or an unexpected error: the sample shows why."""
        sample_id = kwargs.get("sample_id") or (args[0] if args else None)
        if not sample_id:
            return
        try:
            analysis.sample_analysis_failed(
                sample_id=sample_id, reason=f"Analysis failed: {type(exc).__name__}: {exc}"[:500]
            )
        except TRANSIENT:
            # The database is still away; beat's re-queue task picks the sample up later.
            logger.warning("could not record the failed analysis of %s", sample_id)


@shared_task(
    base=AnalysisTask,
    name="library.analyze_sample",
    autoretry_for=TRANSIENT,
    # 5, 10, 20, 40, 80, then 90 s: ten retries ride out about ten minutes of database
    # outage. Each wait stays below the broker's visibility timeout (settings). No jitter,
    # so the span is sure; the worker's pool processes take the retries in turn anyway.
    retry_backoff=5,
    retry_backoff_max=90,
    retry_jitter=False,
    max_retries=10,
    soft_time_limit=240,
    time_limit=300,
)
def analyze_sample(sample_id: str) -> str:
    # The broker hands a task running longer than its visibility timeout to a second
    # worker, and the stale re-queue may send another copy: the copy finds the lock taken.
    with advisory_lock(f"library.analyze_sample:{sample_id}") as mine:
        if not mine:
            return "skipped"
        return _analyze(sample_id)


def _analyze(sample_id: str) -> str:
    try:
        return analysis.sample_analyze(sample_id=sample_id)
    except SoftTimeLimitExceeded:
        analysis.sample_analysis_failed(
            sample_id=sample_id, reason="Analysis took too long and was stopped."
        )
        return "failed"


@shared_task(name="library.requeue_stuck_samples", ignore_result=True)
def requeue_stuck_samples() -> int:
    return analysis.samples_requeue_stuck()


@shared_task(name="library.refresh_unfinished_batches", ignore_result=True)
def refresh_unfinished_batches() -> int:
    return batches.batch_jobs_refresh_unfinished()
