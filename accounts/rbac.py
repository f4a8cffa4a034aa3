"""Roles, permissions and quotas: the one table every check reads.

Roles form a ladder, free < pro < studio < enterprise < admin. Each role has a
set of permission names and a row of quotas (None means unlimited). Views,
serializers, throttles and services ask :func:`has_permission` and
:func:`quota`; nothing else hard-codes a role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accounts.models import Role

if TYPE_CHECKING:
    from accounts.models import ApiKey, User

MB = 1024**2
GB = 1024**3

PERMISSIONS: tuple[str, ...] = (
    "audio:upload",
    "audio:download",
    "audio:edit",
    "audio:delete",
    "audio:analyze",
    "audio:share",
    "audio:batch",
    "search:basic",
    "search:similar",
    "search:advanced",
    "collection:create",
    "collection:edit",
    "collection:delete",
    "collection:share",
    "api:keys",
    "admin:users",
    "admin:analytics",
    "admin:system",
)

_FREE = frozenset(
    {
        "audio:upload",
        "audio:download",
        "audio:edit",
        "audio:delete",
        "audio:analyze",
        "search:basic",
        "collection:create",
        "collection:edit",
        "collection:delete",
    }
)
_PRO = _FREE | {"audio:share", "audio:batch", "search:similar", "collection:share", "api:keys"}
_STUDIO = _PRO | {"search:advanced"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.FREE: _FREE,
    Role.PRO: frozenset(_PRO),
    Role.STUDIO: frozenset(_STUDIO),
    Role.ENTERPRISE: frozenset(_STUDIO),
    Role.ADMIN: frozenset(PERMISSIONS),
}


@dataclass(frozen=True)
class Quotas:
    """Limits for one role; None means unlimited."""

    uploads_per_day: int | None
    storage_bytes: int | None
    api_requests_per_minute: int | None
    collections: int | None
    batch_size: int | None


ROLE_QUOTAS: dict[str, Quotas] = {
    Role.FREE: Quotas(10, 100 * MB, 10, 3, 5),
    Role.PRO: Quotas(100, 5 * GB, 100, 50, 50),
    Role.STUDIO: Quotas(1000, 50 * GB, 500, 500, 200),
    Role.ENTERPRISE: Quotas(None, None, 2000, None, 1000),
    Role.ADMIN: Quotas(None, None, None, None, None),
}

ROLE_ORDER: tuple[str, ...] = tuple(Role.values)


def role_rank(role: str) -> int:
    return ROLE_ORDER.index(role)


def permissions_for(user: Any) -> frozenset[str]:
    """The permission names of an active, signed-in user's role; none otherwise."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return ROLE_PERMISSIONS[Role.ADMIN]
    return ROLE_PERMISSIONS.get(user.role, frozenset())


def acting_key(user: User | Any) -> ApiKey | None:
    """The API key ``user`` signed in with for this request, if any (set by the authentication)."""
    return getattr(user, "acting_api_key", None)


def has_permission(user: User | Any, permission: str, *, api_key: ApiKey | None = None) -> bool:
    """Whether ``user`` may do ``permission``; an API key narrows it to the key's scopes.

    The key a request was authenticated with travels on the user object, so a
    service handed ``request.user`` checks the key's scopes without being told.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if permission not in permissions_for(user):
        return False
    api_key = api_key or acting_key(user)
    return api_key is None or permission in api_key.scopes


# Requests that need no permission of a signed-in person (reading their own things)
# still need a fitting scope from an API key: any one of these. Keyed by URL name and
# method; an empty tuple admits any key of the account. A pair not listed is refused to
# API keys: changing the profile, signing out and billing need the person (session/JWT).
API_KEY_SCOPES_FOR_READS: dict[tuple[str, str], tuple[str, ...]] = {
    ("auth-me", "GET"): (),
    ("studio-project", "GET"): (),
    ("studio-kits", "GET"): ("collection:create", "collection:edit", "audio:download"),
    ("studio-kit", "GET"): ("collection:create", "collection:edit", "audio:download"),
    ("audio-list", "GET"): ("audio:download", "search:basic"),
    ("audio-detail", "GET"): ("audio:download", "search:basic"),
    ("audio-preview", "GET"): ("audio:download", "search:basic"),
    ("audio-batch-detail", "GET"): ("audio:upload", "audio:batch"),
    ("collections", "GET"): ("collection:create", "collection:edit", "audio:download"),
    ("collection-detail", "GET"): ("collection:create", "collection:edit", "audio:download"),
}


def api_key_may(api_key: ApiKey, url_name: str | None, method: str) -> bool:
    """Whether ``api_key`` may make a request that needs no permission (see the table above)."""
    method = "GET" if method in ("HEAD", "OPTIONS") else method
    scopes = API_KEY_SCOPES_FOR_READS.get((url_name or "", method))
    if scopes is None:
        return False
    return not scopes or any(scope in api_key.scopes for scope in scopes)


def quotas_for(user: User) -> Quotas:
    role = Role.ADMIN if user.is_superuser else user.role
    return ROLE_QUOTAS[role]


def quota(user: User, name: str) -> int | None:
    """One quota of the user's role, e.g. ``quota(user, "batch_size")``; None is unlimited."""
    return getattr(quotas_for(user), name)
