"""Celery tasks for the library: thin wrappers around the analysis services."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from library.services import analysis, batches

logger = logging.getLogger(__name__)

TRANSIENT = (OSError, OperationalError, InterfaceError)
# Both analysis tasks: 5, 10, 20, 40, 80, then 90 s: ten retries ride out about ten
# minutes of database outage. Each wait stays below the broker's visibility timeout
# (settings). No jitter, so the span is sure; the worker's pool processes take the
# retries in turn anyway. A batch holds at most about a minute of audio (imports).
ANALYSIS_OPTIONS = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 90,
    "retry_jitter": False,
    "max_retries": 10,
    "soft_time_limit": 240,
    "time_limit": 300,
}
STOPPED = "Analysis took too long and was stopped."


class AnalysisTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Retries used up, or an unexpected error: the samples show why."""
        sample_ids = _sample_ids(args, kwargs)
        if not sample_ids:
            return
        try:
            analysis.samples_analysis_failed(
                sample_ids=sample_ids, reason=f"Analysis failed: {type(exc).__name__}: {exc}"[:500]
            )
        except TRANSIENT:
            # The database is still away; beat's re-queue task picks the samples up later.
            logger.warning("could not record the failed analysis of %s", sample_ids)


def _sample_ids(args, kwargs) -> list[str]:
    if "sample_ids" in kwargs:
        return list(kwargs["sample_ids"])
    if "sample_id" in kwargs:
        return [kwargs["sample_id"]]
    if not args:
        return []
    return list(args[0]) if isinstance(args[0], list) else [args[0]]


@shared_task(base=AnalysisTask, name="library.analyze_sample", **ANALYSIS_OPTIONS)
def analyze_sample(sample_id: str) -> str:
    """One sample (an upload): analysed as soon as a worker is free."""
    return _analyze([sample_id])[str(sample_id)]


@shared_task(base=AnalysisTask, name="library.analyze_samples", **ANALYSIS_OPTIONS)
def analyze_samples(sample_ids: list[str]) -> dict[str, str]:
    """A batch of an import's samples, analysed one after another by one worker process."""
    return _analyze(sample_ids)


def _analyze(sample_ids: list[str]) -> dict[str, str]:
    # The broker hands a task running longer than its visibility timeout to a second
    # worker, and the stale re-queue may send another copy: the copy finds the samples'
    # advisory locks taken and skips them.
    try:
        return analysis.samples_analyze(sample_ids=sample_ids)
    except SoftTimeLimitExceeded:
        # The file being analysed fails; the batch's others went back to the queue.
        stopped = analysis.samples_analysis_stopped(sample_ids=sample_ids, reason=STOPPED)
        return {str(i): "failed" if str(i) in stopped else "skipped" for i in sample_ids}


@shared_task(name="library.requeue_stuck_samples", ignore_result=True)
def requeue_stuck_samples() -> int:
    return analysis.samples_requeue_stuck()


@shared_task(name="library.refresh_unfinished_batches", ignore_result=True)
def refresh_unfinished_batches() -> int:
    return batches.batch_jobs_refresh_unfinished()
