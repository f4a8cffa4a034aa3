"""The project tempo and key an account works in."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from studio.models import ProjectSettings

UNSET = object()


@transaction.atomic
def project_update(
    *,
    user: User,
    bpm: float | None | object = UNSET,
    key: str | None | object = UNSET,
    mode: str | None | object = UNSET,
    matching: bool | object = UNSET,
    pitch_drums: bool | object = UNSET,
) -> ProjectSettings:
    """Change the fields given (``None`` clears tempo or key); the rest stay as they were."""
    project, _ = ProjectSettings.objects.select_for_update().get_or_create(user=user)
    changes = {"bpm": bpm, "key": key, "mode": mode, "matching": matching}
    changes["pitch_drums"] = pitch_drums
    for name, value in changes.items():
        if value is not UNSET:
            setattr(project, name, value)
    if project.key is None:
        project.mode = None
    project.full_clean()
    project.save()
    return project
