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


CHANNEL_NAMES = {1: "mono", 2: "stereo"}


@register.filter
def audio_format(sample) -> str:
    """``WAV, 44.1 kHz, 24-bit, stereo``: what a producer compares; unknown parts are left out."""
    parts = [str(sample.format or "").upper()]
    if sample.sample_rate:
        parts.append(f"{sample.sample_rate / 1000:g} kHz")
    if sample.bit_depth:
        parts.append(f"{sample.bit_depth}-bit")
    if sample.channels:
        parts.append(CHANNEL_NAMES.get(sample.channels, f"{sample.channels} channels"))
    return ", ".join(part for part in parts if part)
