"""How a sample meets a project's tempo and key: pure functions, no Django.

A loop is time-stretched to the project tempo (from its own tempo, or half or
double it, whichever is nearest, so a 70 BPM loop at 140 plays as it is); a
tonal sound is pitch-shifted to the project key, or to its relative when the
sound's mode differs (a minor loop in a C major project goes to A minor, which
shares C major's notes), by at most six semitones either way. Drums keep their
pitch unless asked.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from search.keys import PITCHES, relative

DRUM_CATEGORIES = frozenset(
    {"kick", "snare", "clap", "hihat", "cymbal", "tom", "percussion", "drum_loop"}
)
MAX_SHIFT = 6
_NOTE = re.compile(r"^(?P<pitch>[A-G]#?)(?P<octave>-?\d+)$")


@dataclass(frozen=True)
class Source:
    """What the analyser (or the producer's correction) says about a sample."""

    is_loop: bool
    bpm: float | None
    key: str | None
    mode: str | None
    root_note: str | None
    category: str | None


def source_of(sample) -> Source:
    """A sample (or a search hit) as the producer sees it: its fields hold corrections first.

    Search hits leave the descriptors unloaded: reading them would cost a query per
    row, so there a one-shot without a key is not repitched (its root note is not read).
    """
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


@dataclass(frozen=True)
class Plan:
    """What a render does: ``tempo_ratio`` > 1 plays faster (duration / ratio)."""

    tempo_ratio: float = 1.0
    semitones: int = 0
    notes: list[str] = field(default_factory=list, compare=False)

    @property
    def is_identity(self) -> bool:
        return self.semitones == 0 and abs(self.tempo_ratio - 1.0) < 1e-6


def pitch_of(source: Source) -> str | None:
    """The sound's tonal centre: its key, else its root note's pitch class."""
    if source.key:
        return source.key
    if source.root_note and (match := _NOTE.match(source.root_note)):
        return match["pitch"]
    return None


def tempo_ratio(source_bpm: float, target_bpm: float) -> float:
    """The stretch from the loop's tempo, its half or its double, whichever is nearest."""
    candidates = (source_bpm / 2, source_bpm, source_bpm * 2)
    nearest = min(candidates, key=lambda bpm: abs(math.log(target_bpm / bpm)))
    return target_bpm / nearest


def key_shift(pitch: str, mode: str | None, target: str, target_mode: str | None) -> int:
    """Semitones (-6..+6) from ``pitch`` to the target key, or its relative in ``mode``."""
    if mode and target_mode and mode != target_mode:
        target = relative(target, target_mode)
    distance = (PITCHES.index(target) - PITCHES.index(pitch)) % 12
    return distance - 12 if distance > MAX_SHIFT else distance


def key_shifts(target: str, target_mode: str | None) -> dict[str, dict[str, int]]:
    """``key_shift`` to the target from every pitch, by the sound's mode (``"unknown"``: none).

    The player bar is given this table, so the browser shifts by this rule without a copy of it.
    """
    return {
        mode or "unknown": {pitch: key_shift(pitch, mode, target, target_mode) for pitch in PITCHES}
        for mode in ("major", "minor", None)
    }


def plan_render(
    source: Source,
    *,
    bpm: float | None,
    key: str | None,
    mode: str | None,
    pitch_drums: bool = False,
) -> Plan:
    """The stretch and shift that bring ``source`` to the project's ``bpm`` and ``key``."""
    notes: list[str] = []
    ratio = 1.0
    if bpm is not None:
        if source.is_loop and source.bpm:
            ratio = tempo_ratio(source.bpm, bpm)
            notes.append(f"stretched from {source.bpm:g} to {bpm:g} BPM")
        elif source.is_loop:
            notes.append("no tempo known: length kept")
        else:
            notes.append("a one-shot: length kept")
    semitones = 0
    if key is not None:
        pitch = pitch_of(source)
        drum = source.category in DRUM_CATEGORIES
        if drum and not pitch_drums:
            notes.append("drums keep their pitch")
        elif pitch is None:
            notes.append("no key or root note known: pitch kept")
        else:
            semitones = key_shift(pitch, source.mode, key, mode)
            notes.append(
                f"shifted {semitones:+d} semitones from {pitch} {source.mode or ''}".strip()
            )
    return Plan(tempo_ratio=round(ratio, 6), semitones=semitones, notes=notes)
