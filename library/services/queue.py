"""Handing samples to the analysis queue."""

from __future__ import annotations

import logging
from functools import partial

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# library.tasks.analyze_sample and analyze_samples, sent by their stable names (routed to
# the "analysis" queue by CELERY_TASK_ROUTES): the tasks module imports the services,
# never the reverse.
ANALYZE_SAMPLE_TASK = "library.analyze_sample"
ANALYZE_SAMPLES_TASK = "library.analyze_samples"


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
