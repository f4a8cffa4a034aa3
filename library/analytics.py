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
from samplemind.analytics import cache_hit_rate, queue_depths


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
