"""Housekeeping tasks that belong to no app."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "worker:heartbeat"


@shared_task(name="samplemind.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Record that beat scheduled and a worker ran a task; the health check reads it."""
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)


@shared_task(name="samplemind.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Answer with the database the worker is connected to (a round-trip probe)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        (database,) = cursor.fetchone()
    return {"pong": "ok", "database": database}
