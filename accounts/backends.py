"""Django's model backend behind the sign-in lock, so no form can try a locked password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts.lockout import login_lock_seconds


class SignInLockBackend(ModelBackend):
    """``ModelBackend``, first in ``AUTHENTICATION_BACKENDS``, refusing locked accounts.

    The API, the sign-in page and the admin's ask the lock themselves first,
    to answer 429 with Retry-After; this catches any other caller of
    ``authenticate()``. ``PermissionDenied`` makes Django stop before the
    other backends (allauth's) and report a failed sign-in.
    """

    def authenticate(self, request: Any, username: str | None = None, **credentials: Any):
        email = str(username or credentials.get("email") or "")
        if login_lock_seconds(email=email):
            raise PermissionDenied("too many sign-in attempts")
        return super().authenticate(request, username=username, **credentials)
