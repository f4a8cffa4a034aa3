"""Celery tasks for search: thin wrappers around search.services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from search.services import search_terms_prune


@shared_task(
    name="search.prune_terms",
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
    soft_time_limit=300,
    time_limit=360,
)
def prune_terms() -> int:
    return search_terms_prune()
