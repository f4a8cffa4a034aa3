"""Human labels for the listening pages: "Drum loop", "A minor", "1:02.5"."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def category_label(value: str | None) -> str:
    """``drum_loop`` -> ``Drum loop``; empty for no category."""
    if not value:
        return ""
    return str(value).replace("_", " ").capitalize()


@register.filter
def key_label(sample) -> str:
    """A sample's key as a musician says it: ``A minor``, ``C`` when the mode is unknown."""
    if not getattr(sample, "key", None):
        return ""
    return f"{sample.key} {sample.mode}" if sample.mode else sample.key


@register.filter
def clock(seconds: float | None) -> str:
    """Seconds as a short duration: ``0.52 s`` under ten seconds, ``1:02`` from a minute."""
    if seconds is None:
        return ""
    seconds = float(seconds)
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"
