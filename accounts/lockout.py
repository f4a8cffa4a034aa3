"""Sign-in lock per account: five wrong passwords within a minute lock it for the rest of it.

One rule for the API (``auth/login``), the sign-in page and the admin's: every
failed ``authenticate()`` (Django's ``user_login_failed`` signal) is recorded
here, and each sign-in asks :func:`login_lock_seconds` first. The window
slides: the account stays locked until the oldest of the five failures is a
minute old, so the sixth try within any minute is refused whatever its
password.

Failures are timestamps in a Redis sorted set per account (keyed by a hash of
the lowercased email, so no address sits in Redis), changed in one MULTI so
parallel tries cannot slip past the count. With Redis down, sign-in keeps
working without the lock, as the other limits do (``RATELIMIT_FAIL_OPEN``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid

from django.core.cache import cache
from django_redis import get_redis_connection
from redis.exceptions import RedisError

FAILURES_ALLOWED = 5
WINDOW_SECONDS = 60

logger = logging.getLogger(__name__)


def _key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return cache.make_key(f"login-failures:v1:{digest}")


def login_failure_record(*, email: str) -> None:
    """Count one wrong password for the account signing in as ``email``."""
    if not email:
        return
    now = time.time()
    key = _key(email)
    try:
        with get_redis_connection("default").pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, 0, now - WINDOW_SECONDS)
            pipe.zadd(key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
            pipe.expire(key, WINDOW_SECONDS + 1)
            pipe.execute()
    except (RedisError, OSError):
        logger.warning("sign-in failures cannot be counted: Redis is unavailable")


def login_lock_seconds(*, email: str) -> int:
    """Seconds until ``email`` may try again (0: not locked)."""
    if not email:
        return 0
    now = time.time()
    try:
        recent = get_redis_connection("default").zrangebyscore(
            _key(email), now - WINDOW_SECONDS, "+inf", withscores=True
        )
    except (RedisError, OSError):
        return 0
    stamps = sorted((score for _, score in recent), reverse=True)
    if len(stamps) < FAILURES_ALLOWED:
        return 0
    # The lock ends when fewer than FAILURES_ALLOWED failures are left within the window.
    return max(1, math.ceil(WINDOW_SECONDS - (now - stamps[FAILURES_ALLOWED - 1])))


def login_failures_clear(*, email: str) -> None:
    """Forget the failures, e.g. once the owner has set a new password through a reset mail."""
    if not email:
        return
    try:
        get_redis_connection("default").delete(_key(email))
    except (RedisError, OSError):
        logger.warning("sign-in failures cannot be cleared: Redis is unavailable")
