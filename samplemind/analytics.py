"""The figures an administrator watches: users, uploads, storage, analysis, search, cache."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from library.models import AnalysisResult, Sample
from samplemind import metrics
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


def analytics_snapshot(days: int = 14) -> dict[str, Any]:
    now = timezone.now()
    since = now - timedelta(days=days)
    users = get_user_model().objects.values("role").annotate(n=Count("id")).order_by("role")
    uploads = (
        Sample.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    storage = Sample.objects.aggregate(bytes=Sum("size_bytes"), samples=Count("pk"))
    statuses = Sample.objects.values("status").annotate(n=Count("pk"))
    runs = AnalysisResult.objects.filter(created_at__gte=now - timedelta(hours=24)).aggregate(
        total=Count("pk"), failed=Count("pk", filter=Q(status="failed"))
    )
    return {
        "generated_at": now,
        "users_per_role": {row["role"]: row["n"] for row in users},
        "uploads_per_day": {f"{row['day']:%Y-%m-%d}": row["n"] for row in uploads},
        "storage": {"bytes": storage["bytes"] or 0, "samples": storage["samples"]},
        "analysis": {
            "status_counts": {row["status"]: row["n"] for row in statuses},
            "queue_depth": queue_depths(),
            "runs_24h": runs["total"],
            "failure_rate_24h": round(runs["failed"] / runs["total"], 3) if runs["total"] else None,
        },
        "search_volume": metrics.daily("search", days=7),
        "cache": cache_hit_rate(),
    }
