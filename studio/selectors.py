"""Reads for the studio: project settings, renders, kits and slices."""

from __future__ import annotations

from accounts.models import User
from samplemind.errors import ProductError
from studio.models import ProjectSettings, Render


def project_settings(*, user: User) -> ProjectSettings:
    """The user's project tempo and key; an unsaved blank one until they set it."""
    found = ProjectSettings.objects.filter(user=user).first()
    return found if found is not None else ProjectSettings(user=user)


def render_target(
    *,
    user: User,
    bpm: float | None = None,
    key: str | None = None,
    mode: str | None = None,
    format: str = "wav",  # noqa: A002 - the query parameter's name
    pitch_drums: bool | None = None,
) -> dict:
    """A render request's target; tempo, key and drum pitching default to the project's.

    Raises ``ProductError`` (400) when neither the request nor the project names
    a tempo or a key.
    """
    project = project_settings(user=user)
    if bpm is None and key is None:
        bpm, key, mode = project.bpm, project.key, project.mode
    if bpm is None and key is None:
        raise ProductError(
            "Give a tempo (bpm) or a key, or set your project's (studio/project).",
            details={"bpm": ["Give a tempo or a key."]},
        )
    if pitch_drums is None:
        pitch_drums = project.pitch_drums
    return {"bpm": bpm, "key": key, "mode": mode, "fmt": format, "pitch_drums": pitch_drums}


def render_filename(render: Render) -> str:
    """``Dusty Loop (124 BPM, F minor).wav``: what lands in the producer's DAW."""
    parts = []
    if render.bpm is not None:
        parts.append(f"{render.bpm:g} BPM")
    if render.key:
        parts.append(f"{render.key} {render.mode or 'major'}")
    stem = "".join(c if c.isalnum() or c in " -_#" else "_" for c in render.sample.name).strip()
    return f"{stem or 'render'} ({', '.join(parts)}).{render.format}"
