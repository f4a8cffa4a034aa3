"""DRF permission classes and a page decorator built on :mod:`accounts.rbac`."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import ApiKey
from accounts.rbac import PERMISSIONS, has_permission


def request_allows(request: Request, permission: str) -> bool:
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    return has_permission(request.user, permission, api_key=api_key)


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
            return all(request_allows(request, name) for name in permissions)

    _Allowed.__name__ = f"Allowed({', '.join(permissions)})"
    return _Allowed


def permission_required(permission: str):
    """Page decorator: 403 unless the signed-in user's role has ``permission``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_permission(request.user, permission):
                raise PermissionDenied(f"Your plan does not include {permission}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class MethodPermissions(BasePermission):
    """Permissions per HTTP method, from the view's ``required_permissions``.

    ``required_permissions = {"GET": (), "PATCH": ("audio:edit",), "DELETE": ("audio:delete",)}``;
    a method not listed needs only a signed-in user.
    """

    message = "Your plan does not include this action."

    def has_permission(self, request: Request, view: object) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401 for anonymous callers
        needed = getattr(view, "required_permissions", {}).get(request.method, ())
        missing = [name for name in needed if not request_allows(request, name)]
        if missing:
            self.message = f"Your plan does not include {', '.join(missing)}."
        return not missing
