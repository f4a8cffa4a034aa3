"""allauth's page rate limits (sign-in, sign-up, password reset) fail open without Redis.

allauth counts its limits in the default cache behind a lock taken with
``cache.add()``. With Redis unreachable, django-redis ignores the error
(``IGNORE_EXCEPTIONS``) and ``add()`` answers ``None``; allauth reads that as
"someone else holds the lock", waits a second and answers 429 to everyone.
The API's limits (django-ratelimit, ``RATELIMIT_FAIL_OPEN``) let requests
through instead, and so do these once :func:`install` has run: an unreachable
cache grants the lock, reads miss, and the request is served unlimited.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT

logger = logging.getLogger(__name__)


class FailOpenCache:
    """The default cache as allauth's rate limits see it; only ``add()`` differs."""

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version=None) -> bool:
        added = cache.add(key, value, timeout=timeout, version=version)
        if added is None:  # django-redis could not reach Redis
            logger.warning("sign-in, sign-up and reset pages are not rate limited: Redis is down")
            return True
        return added

    def __getattr__(self, name: str) -> Any:
        return getattr(cache, name)


def install() -> None:
    """Point allauth's rate limiting at :class:`FailOpenCache` (from ``AppConfig.ready``)."""
    from allauth.core.internal import ratelimit

    # allauth offers no setting for its cache; its module-level reference is the one seam.
    ratelimit.cache = FailOpenCache()
