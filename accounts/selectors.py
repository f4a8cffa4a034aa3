"""Reads from accounts."""

from __future__ import annotations

from allauth.account.utils import has_verified_email
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from accounts.models import ApiKey, RateLimitOverride, User

_NO_OVERRIDE = "none"


def override_cache_key(user_id: int) -> str:
    return f"ratelimit-override:v1:{user_id}"


def rate_limit_override_for(*, user: User) -> RateLimitOverride | None:
    """The user's active override, cached (the throttle asks on every request)."""
    key = override_cache_key(user.pk)
    cached = cache.get(key)
    if cached == _NO_OVERRIDE:
        return None
    if cached is not None:
        return cached if cached.is_active else None
    override = RateLimitOverride.objects.filter(user=user).first()
    cache.set(key, override or _NO_OVERRIDE, timeout=300)
    return override if override is not None and override.is_active else None


def api_keys_for(*, user: User) -> QuerySet[ApiKey]:
    """The user's own keys, newest first; never anybody else's."""
    return ApiKey.objects.filter(owner=user).order_by("-created_at")


def email_verification_required() -> bool:
    """Whether accounts must confirm their email before signing in (allauth's setting)."""
    return str(settings.ACCOUNT_EMAIL_VERIFICATION).lower() == "mandatory"


def email_verified(*, user: User) -> bool:
    """Whether the user has confirmed an email address (allauth's records)."""
    return has_verified_email(user)
