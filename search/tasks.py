"""Celery tasks for search: thin wrappers around search.services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from search.services import search_index_sweep, search_terms_prune


@shared_task(
    name="search.prune_terms",
    ignore_result=True,
    # Acknowledged on receipt: it may outlast the broker's visibility timeout, and a lost
    # run waits for the next day's.
    acks_late=False,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=90,  # below the broker's visibility timeout
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def prune_terms() -> int:
    return search_terms_prune()


@shared_task(
    name="search.sweep_index",
    ignore_result=True,
    acks_late=False,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=90,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def sweep_index() -> int:
    """Repair search entries that drifted from their samples (see search_index_sweep)."""
    return search_index_sweep()
