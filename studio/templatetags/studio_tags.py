"""Template tags for the studio: "download at 124 BPM in F minor" on a sample's page."""

from __future__ import annotations

from django import template
from django.urls import reverse

from studio import selectors
from studio.matching import DRUM_CATEGORIES, pitch_of, plan_render, source_of

register = template.Library()


@register.inclusion_tag("studio/_matched_downloads.html", takes_context=True)
def matched_downloads(context, sample) -> dict:
    """Links to the sample at the project's tempo and key, when that would change it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or sample.status != "ready":
        return {"show": False}
    project = selectors.project_settings(user=user)
    if not (project.bpm or project.key):
        return {"show": True, "unset": True, "studio_url": reverse("studio:kits")}
    source = source_of(sample)
    plan = plan_render(
        source,
        bpm=project.bpm,
        key=project.key,
        mode=project.mode,
        pitch_drums=project.pitch_drums,
    )
    url = reverse("studio:sample-file", args=[sample.pk])
    return {
        "show": not plan.is_identity,
        "label": selectors.target_label(bpm=project.bpm, key=project.key, mode=project.mode),
        "wav_url": f"{url}?match=1&format=wav",
        "flac_url": f"{url}?match=1&format=flac",
    }


@register.filter
def match_pitch(sample) -> str:
    """The pitch class the player shifts from: the key, else the root note (the render's rule)."""
    return pitch_of(source_of(sample)) or ""


@register.filter
def is_drum(sample) -> bool:
    """Drums keep their pitch in the player unless the project asks otherwise."""
    return getattr(sample, "category", None) in DRUM_CATEGORIES
