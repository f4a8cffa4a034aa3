"""DRF permission classes built on :mod:`accounts.rbac` (pages call ``has_permission`` directly)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import ApiKey
from accounts.rbac import PERMISSIONS, api_key_may, has_permission, permissions_for

KEY_REFUSED = (
    "This API key's scopes do not allow this request; "
    "profile, sign-out and billing requests need a signed-in person, not a key."
)


def request_allows(request: Request, permission: str) -> bool:
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    return has_permission(request.user, permission, api_key=api_key)


def refusal_message(request: Request, permissions: tuple[str, ...] | list[str]) -> str:
    """Why ``permissions`` are refused: the plan lacks them, or only the API key's scopes do."""
    role = permissions_for(request.user)
    unplanned = [name for name in permissions if name not in role]
    if unplanned:
        return f"Your plan does not include {', '.join(unplanned)}."
    unscoped = [name for name in permissions if not request_allows(request, name)]
    return (
        f"This API key lacks the scope {', '.join(unscoped)}; "
        "create a key with it (your plan includes it)."
    )


def key_allows_plain_request(request: Request) -> bool:
    """A request that needs only a signed-in user: an API key needs a fitting scope."""
    if not isinstance(request.auth, ApiKey):
        return True
    match = getattr(request, "resolver_match", None)
    return api_key_may(request.auth, match.url_name if match else None, request.method)


class SignedIn(BasePermission):
    """The default: any active account, but an API key only where its scopes fit.

    Which scopes fit an endpoint that needs no permission is the table
    ``accounts.rbac.API_KEY_SCOPES_FOR_READS``; endpoints missing there refuse keys.
    """

    message = KEY_REFUSED

    def has_permission(self, request: Request, view: object) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401 for anonymous callers
        return key_allows_plain_request(request)


def Allowed(*permissions: str) -> type[BasePermission]:  # noqa: N802 - reads like a class
    """A DRF permission class requiring every one of ``permissions``.

    ``permission_classes = [Allowed("audio:upload")]``
    """
    unknown = [name for name in permissions if name not in PERMISSIONS]
    if unknown:
        raise ValueError(f"unknown permissions: {unknown}")

    class _Allowed(BasePermission):
        message = f"Your plan does not include {', '.join(permissions)}."
        required = permissions

        def has_permission(self, request: Request, view: object) -> bool:
            if all(request_allows(request, name) for name in permissions):
                return True
            self.message = refusal_message(request, permissions)
            return False

    _Allowed.__name__ = f"Allowed({', '.join(permissions)})"
    return _Allowed


class MethodPermissions(BasePermission):
    """Permissions per HTTP method, from the view's ``required_permissions``.

    ``required_permissions = {"GET": (), "PATCH": ("audio:edit",), "DELETE": ("audio:delete",)}``;
    a method not listed needs only a signed-in user (and, from an API key, a fitting scope:
    see :class:`SignedIn`).
    """

    message = "Your plan does not include this action."

    def has_permission(self, request: Request, view: object) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401 for anonymous callers
        needed = getattr(view, "required_permissions", {}).get(request.method, ())
        if not needed:
            self.message = KEY_REFUSED
            return key_allows_plain_request(request)
        missing = [name for name in needed if not request_allows(request, name)]
        if missing:
            self.message = refusal_message(request, missing)
        return not missing
