"""Reads for the studio: project settings, renders, kits and slices."""

from __future__ import annotations

from accounts.models import User
from studio.models import ProjectSettings


def project_settings(*, user: User) -> ProjectSettings:
    """The user's project tempo and key; an unsaved blank one until they set it."""
    found = ProjectSettings.objects.filter(user=user).first()
    return found if found is not None else ProjectSettings(user=user)
