"""Writes to accounts."""

from __future__ import annotations

import secrets

from django.db import transaction

from accounts.models import Role, User


@transaction.atomic
def admin_ensure(*, email: str, password: str | None) -> tuple[User, str | None]:
    """Make sure an admin account with ``email`` exists.

    Returns the user and the password to show: the generated one when the
    account is new and no password was given, otherwise None. An explicit
    password is (re)applied so the configured login always works.
    """
    user = User.objects.filter(email__iexact=email).first()
    shown = None
    if user is None:
        shown = None if password else secrets.token_urlsafe(12)
        user = User.objects.create_superuser(email, password or shown)
        return user, shown
    user.role, user.is_superuser, user.is_active = Role.ADMIN, True, True
    if password:
        user.set_password(password)
    user.save()
    return user, shown
