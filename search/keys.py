"""Musical keys as people type them, and which keys mix well together (the Camelot wheel).

Keys are stored as a pitch class name (``C`` .. ``B``, sharps only) plus a
mode. People also type flats (``Bb``), a minor suffix (``F#m``, ``A minor``)
or Camelot codes (``8A``); :func:`parse_key` reads all of them.
"""

from __future__ import annotations

import re

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MODES = ("major", "minor")

_FLATS = {"DB": "C#", "EB": "D#", "FB": "E", "GB": "F#", "AB": "G#", "BB": "A#", "CB": "B"}
_SHARPS = {"E#": "F", "B#": "C"}
# Camelot number of each major key (B side); a minor key shares its relative major's number.
_CAMELOT_MAJOR = {
    "B": 1, "F#": 2, "C#": 3, "G#": 4, "D#": 5, "A#": 6,
    "F": 7, "C": 8, "G": 9, "D": 10, "A": 11, "E": 12,
}  # fmt: skip
_KEY = re.compile(
    r"^\s*(?P<pitch>[A-Ga-g])(?P<accidental>[#b♯♭]?)\s*"
    r"(?P<mode>m|M|(?i:min|minor|maj|major))?\s*$"
)
_CAMELOT = re.compile(r"^\s*(?P<number>1[0-2]|[1-9])\s*(?P<side>[ABab])\s*$")


class UnknownKey(ValueError):
    """The text is not a key this module can read; the message says what is."""


def _pitch(letter: str, accidental: str) -> str:
    name = letter.upper() + {"♯": "#", "♭": "B", "b": "B", "#": "#"}.get(accidental, "")
    name = _FLATS.get(name, _SHARPS.get(name, name))
    if name not in PITCHES:
        raise UnknownKey(f"{letter}{accidental} is not a note name")
    return name


def parse_key(text: str) -> tuple[str, str | None]:
    """Read a key: ``"Am"`` -> ``("A", "minor")``, ``"Bb"`` -> ``("A#", None)``.

    Camelot codes work too: ``"8A"`` -> ``("A", "minor")``.
    """
    if match := _CAMELOT.match(text):
        number, side = int(match["number"]), match["side"].upper()
        major = next(pitch for pitch, n in _CAMELOT_MAJOR.items() if n == number)
        return (major, "major") if side == "B" else (relative(major, "major"), "minor")
    match = _KEY.match(text)
    if not match:
        raise UnknownKey(
            f"{text!r} is not a key; use a note name such as C, F# or Bb, "
            "optionally with m or minor (Am), or a Camelot code such as 8A."
        )
    mode = match["mode"]
    if mode is not None:
        mode = "major" if mode == "M" or mode.lower().startswith("maj") else "minor"
    return _pitch(match["pitch"], match["accidental"]), mode


def transpose(pitch: str, semitones: int) -> str:
    return PITCHES[(PITCHES.index(pitch) + semitones) % 12]


def relative(pitch: str, mode: str) -> str:
    """The relative key's tonic: A minor for C major, C major for A minor."""
    return transpose(pitch, -3) if mode == "major" else transpose(pitch, 3)


def camelot(pitch: str, mode: str) -> str:
    """The Camelot code: ``camelot("A", "minor") == "8A"``."""
    if mode == "major":
        return f"{_CAMELOT_MAJOR[pitch]}B"
    return f"{_CAMELOT_MAJOR[relative(pitch, 'minor')]}A"


def compatible_keys(pitch: str, mode: str) -> list[tuple[str, str]]:
    """Keys that mix with ``pitch mode``: itself, its relative, and a fifth up and down.

    These are the key's neighbours on the Camelot wheel (8A: 8A, 8B, 9A, 7A).
    """
    other_mode = "minor" if mode == "major" else "major"
    return [
        (pitch, mode),
        (relative(pitch, mode), other_mode),
        (transpose(pitch, 7), mode),
        (transpose(pitch, 5), mode),
    ]
