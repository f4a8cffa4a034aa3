"""The client's address: the one answer every audit entry, allowlist and rate limit uses.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each of which appends the
address it received the request from to ``X-Forwarded-For``, the client is the
entry that many places from the right; ``REMOTE_ADDR`` is then the nearest
proxy. With no trusted proxies (the default) the header is ignored, since
anybody can send it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# What django-ratelimit counts under when no address can be told (it needs a valid one).
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a bucket name, never bound


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's IP address, or None when there is no request or no usable address."""
    if request is None:
        return None
    meta = request.META
    remote = _valid(meta.get("REMOTE_ADDR") or "")
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if trusted <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    # Entries left of the trusted ones were written by the client and prove nothing;
    # a shorter header than expected means fewer proxies, so its left-most entry is taken.
    return _valid(hops[-min(trusted, len(hops))]) or remote


def ratelimit_ip(request: HttpRequest) -> str:
    """``RATELIMIT_IP_META_KEY`` for django-ratelimit, which needs some address."""
    return client_ip(request) or UNKNOWN_ADDRESS
