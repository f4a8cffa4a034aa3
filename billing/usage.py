"""API requests per person per minute and per day, counted in Redis.

Each count lives in a key named after its minute or its UTC day and expires
soon after that period ends, so there is no running total to drift and
nothing to reconcile: a new period starts from zero by construction. Uploads,
storage and collections are never counted here; they are read from the
library's rows (:mod:`billing.selectors`).
"""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

MINUTE_TTL = 120
DAY_TTL = 2 * 86400


def _keys(user_id: int, now: datetime) -> tuple[str, str]:
    return (
        f"billing:api:{user_id}:m:{now:%Y%m%d%H%M}",
        f"billing:api:{user_id}:d:{now:%Y%m%d}",
    )


def _increment(key: str, ttl: int) -> None:
    try:
        cache.incr(key)
    except ValueError:  # no such key yet: this is the period's first request
        if not cache.add(key, 1, ttl):
            cache.incr(key)  # another request created it meanwhile


def api_request_record(*, user_id: int, now: datetime | None = None) -> None:
    """Count one API request by ``user_id`` in the current minute and UTC day."""
    minute, day = _keys(user_id, now or timezone.now())
    _increment(minute, MINUTE_TTL)
    _increment(day, DAY_TTL)


def api_requests_counted(*, user_id: int, now: datetime | None = None) -> tuple[int, int]:
    """Requests by ``user_id`` this minute and this UTC day."""
    minute, day = _keys(user_id, now or timezone.now())
    counts = cache.get_many([minute, day])
    return int(counts.get(minute, 0)), int(counts.get(day, 0))
