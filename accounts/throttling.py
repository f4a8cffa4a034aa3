"""Per-role request limits from the quota table, and per-key limits for API keys."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey
from accounts.network import UNKNOWN_ADDRESS, client_ip
from accounts.rbac import quota
from accounts.selectors import rate_limit_override_for

WINDOW_SECONDS = 60


class RoleRateThrottle(SimpleRateThrottle):
    """Requests per minute: the account's limit, and within it a key's own limit.

    Every request of an account counts against the role's
    ``api_requests_per_minute`` (or the account's override), whichever way it
    signed in, so several keys share one budget. A key with its own
    ``rate_limit_per_minute`` is also counted on its own, and both must have
    room. Anonymous clients are counted per IP address.
    """

    scope = "role"

    def __init__(self) -> None:
        # The limits depend on who is asking, so they are decided in allow_request().
        self.rate = None
        self._wait: float | None = None

    def account_limit(self, request: Request) -> int | None:
        user = request.user
        if not (user and user.is_authenticated):
            return getattr(settings, "ANONYMOUS_REQUESTS_PER_MINUTE", 30)
        override = rate_limit_override_for(user=user)
        if override is not None:
            return override.api_requests_per_minute
        return quota(user, "api_requests_per_minute")

    def buckets(self, request: Request) -> list[tuple[str, int]]:
        """(cache key, requests per minute) pairs that must all have room; None limits left out."""
        user = request.user
        if not (user and user.is_authenticated):
            ident = f"ip:{self.get_ident(request)}"
        else:
            ident = f"user:{user.pk}"
        pairs = [(f"throttle_role_{ident}", self.account_limit(request))]
        key = request.auth if isinstance(request.auth, ApiKey) else None
        if key is not None and key.rate_limit_per_minute is not None:
            pairs.append((f"throttle_role_key:{key.pk}", key.rate_limit_per_minute))
        return [(cache_key, limit) for cache_key, limit in pairs if limit is not None]

    def get_ident(self, request: Request) -> str:
        # DRF's own version trusts a client-sent X-Forwarded-For unless NUM_PROXIES is set.
        return client_ip(request) or UNKNOWN_ADDRESS

    def allow_request(self, request: Request, view: object) -> bool:
        buckets = self.buckets(request)
        if not buckets:
            return True
        self.now = self.timer()
        histories, waits = [], []
        for cache_key, limit in buckets:
            history = [
                stamp
                for stamp in self.cache.get(cache_key, [])
                if stamp > self.now - WINDOW_SECONDS
            ]
            if len(history) >= limit:
                # Newest first: room comes back when the limit-th newest request is a minute old.
                oldest_in_the_way = history[limit - 1] if limit > 0 else self.now
                waits.append(WINDOW_SECONDS - (self.now - oldest_in_the_way))
            histories.append((cache_key, history))
        if waits:
            self._wait = max(max(waits), 1)
            return False
        # Counted only once every bucket has room, so a refused request uses up nothing.
        for cache_key, history in histories:
            history.insert(0, self.now)
            self.cache.set(cache_key, history, WINDOW_SECONDS)
        return True

    def wait(self) -> float | None:
        return self._wait
