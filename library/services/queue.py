"""Handing samples to the analysis queue."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from functools import partial

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# library.tasks.analyze_sample and analyze_samples, sent by their stable names (routed to
# the "analysis" queue by CELERY_TASK_ROUTES): the tasks module imports the services,
# never the reverse.
ANALYZE_SAMPLE_TASK = "library.analyze_sample"
ANALYZE_SAMPLES_TASK = "library.analyze_samples"
# Many samples at once (an import's chunk, a re-analysis, the stale re-queue) go to the
# workers in batches: one message, one claim and one search-cache bump for each
# (``analysis.samples_analyze``). A batch holds at most this many files and about this
# much audio, so it stays far from the task's time limit.
BATCH_FILES = 10
BATCH_SECONDS = 60.0


def enqueue_analysis(sample_id: str) -> None:
    """Queue analysis once the transaction commits (a worker must see the row).

    Like ``delay_on_commit``, but a broker outage is logged instead of failing a
    request that has already committed: the sample stays ``pending`` and the
    periodic re-queue task hands it to a worker when the broker is back.
    """
    transaction.on_commit(partial(_send, ANALYZE_SAMPLE_TASK, str(sample_id)))


def enqueue_analysis_batch(sample_ids: list[str]) -> None:
    """``enqueue_analysis`` for samples one worker process analyses in turn (one message)."""
    transaction.on_commit(partial(_send, ANALYZE_SAMPLES_TASK, [str(i) for i in sample_ids]))


def enqueue_analyses(samples: Iterable[tuple[object, float | None]]) -> None:
    """Queue many samples' analyses, given as (id, duration) pairs, in batches."""
    for sample_ids in analysis_batches(samples):
        enqueue_analysis_batch(sample_ids)


def analysis_batches(samples: Iterable[tuple[object, float | None]]) -> Iterator[list[str]]:
    """The ids of (id, duration) pairs in batches of BATCH_FILES files and about BATCH_SECONDS."""
    batch: list[str] = []
    seconds = 0.0
    for sample_id, duration in samples:
        if batch and (len(batch) >= BATCH_FILES or seconds + (duration or 0.0) > BATCH_SECONDS):
            yield batch
            batch, seconds = [], 0.0
        batch.append(str(sample_id))
        seconds += duration or 0.0
    if batch:
        yield batch


def _send(task: str, argument: str | list[str]) -> None:
    try:
        current_app.send_task(
            task,
            args=[argument],
            # The outcome is stored on the sample; nothing waits on a result.
            ignore_result=True,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:  # noqa: BLE001 - any broker failure; the re-queue task recovers
        logger.warning("analysis of %s not queued", argument, exc_info=True)
