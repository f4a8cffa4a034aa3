"""Small usage counters kept in Redis (one key per name and day); losing them loses nothing else."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)
KEEP_DAYS = 40


def _key(name: str, day) -> str:
    return f"metrics:v1:{name}:{day:%Y-%m-%d}"


def count(name: str, amount: int = 1) -> None:
    """Add to today's counter; a Redis outage only loses the count."""
    key = _key(name, timezone.now().date())
    try:
        if not cache.add(key, amount, timeout=KEEP_DAYS * 86400):
            cache.incr(key, amount)
    except Exception:  # noqa: BLE001 - counters must never break a request
        logger.debug("metric %s not counted", name, exc_info=True)


def daily(name: str, days: int = 7) -> dict[str, int]:
    """The last ``days`` days of a counter, oldest first, 0 where nothing was counted."""
    today = timezone.now().date()
    dates = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    try:
        values = cache.get_many([_key(name, day) for day in dates])
    except Exception:  # noqa: BLE001
        values = {}
    return {f"{day:%Y-%m-%d}": int(values.get(_key(name, day)) or 0) for day in dates}
