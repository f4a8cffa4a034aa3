"""Broker and cache figures, for the health check and the administrator's analytics."""

from __future__ import annotations

from typing import Any

from samplemind.celery import app as celery_app

QUEUES = ("analysis", "celery")


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each Celery queue (Redis lists); None when the broker is down."""
    try:
        with celery_app.connection_for_read() as connection:
            client = connection.default_channel.client
            return {queue: int(client.llen(queue)) for queue in QUEUES}
    except Exception:  # noqa: BLE001 - reported as unknown
        return dict.fromkeys(QUEUES)


def cache_hit_rate() -> dict[str, Any]:
    from django.core.cache import cache

    try:
        stats = cache.client.get_client(write=False).info("stats")
    except Exception:  # noqa: BLE001
        return {"hits": None, "misses": None, "rate": None}
    hits, misses = stats.get("keyspace_hits", 0), stats.get("keyspace_misses", 0)
    return {
        "hits": hits,
        "misses": misses,
        "rate": round(hits / (hits + misses), 3) if hits + misses else None,
    }
