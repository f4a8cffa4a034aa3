"""Per-role request limits from the quota table, and per-key limits for API keys."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey
from accounts.network import UNKNOWN_ADDRESS, client_ip
from accounts.rbac import quota
from accounts.selectors import rate_limit_override_for


class RoleRateThrottle(SimpleRateThrottle):
    """Requests per minute: the role's ``api_requests_per_minute``, lowered by a key's own limit.

    Signed-in users are counted per account (an API key with its own limit is
    counted per key); anonymous clients per IP address.
    """

    scope = "role"

    def __init__(self) -> None:
        # The rate depends on who is asking, so it is decided in allow_request().
        self.rate = None

    def limit_for(self, request: Request) -> int | None:
        user = request.user
        if not (user and user.is_authenticated):
            return getattr(settings, "ANONYMOUS_REQUESTS_PER_MINUTE", 30)
        limit = quota(user, "api_requests_per_minute")
        override = rate_limit_override_for(user=user)
        if override is not None:
            limit = override.api_requests_per_minute
        key = request.auth if isinstance(request.auth, ApiKey) else None
        if key is not None and key.rate_limit_per_minute is not None:
            limit = (
                key.rate_limit_per_minute
                if limit is None
                else min(limit, key.rate_limit_per_minute)
            )
        return limit

    def get_cache_key(self, request: Request, view: object) -> str:
        user = request.user
        if user and user.is_authenticated:
            key = request.auth if isinstance(request.auth, ApiKey) else None
            if key is not None and key.rate_limit_per_minute is not None:
                ident = f"key:{key.pk}"
            else:
                ident = f"user:{user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle_role_{ident}"

    def get_ident(self, request: Request) -> str:
        # DRF's own version trusts a client-sent X-Forwarded-For unless NUM_PROXIES is set.
        return client_ip(request) or UNKNOWN_ADDRESS

    def allow_request(self, request: Request, view: object) -> bool:
        limit = self.limit_for(request)
        if limit is None:
            return True
        self.rate = f"{limit}/m"
        self.num_requests, self.duration = limit, 60
        return super().allow_request(request, view)
