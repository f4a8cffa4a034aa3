"""Template tags for the studio: "download at 124 BPM in F minor" on a sample's page."""

from __future__ import annotations

from django import template
from django.urls import reverse

from studio import selectors
from studio.matching import DRUM_CATEGORIES, Source, pitch_of, plan_render

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
    source = Source(
        is_loop=bool(sample.is_loop),
        bpm=sample.bpm,
        key=sample.key,
        mode=sample.mode,
        root_note=(sample.descriptors or {}).get("root_note"),
        category=sample.category,
    )
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


def source_of(sample) -> Source:
    # Search hits leave the descriptors unloaded: reading them would cost a query per row,
    # so there a one-shot without a key is not repitched (its root note is not read).
    deferred = sample.get_deferred_fields() if hasattr(sample, "get_deferred_fields") else ()
    descriptors = {} if "descriptors" in deferred else getattr(sample, "descriptors", None)
    return Source(
        is_loop=bool(getattr(sample, "is_loop", False)),
        bpm=getattr(sample, "bpm", None),
        key=getattr(sample, "key", None),
        mode=getattr(sample, "mode", None),
        root_note=(descriptors or {}).get("root_note"),
        category=getattr(sample, "category", None),
    )
