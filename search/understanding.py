"""Query understanding: the words producers type for what the analysis knows.

"hh 120 bpm", "dark pad in A minor", "90-100 bpm drum loop", "Cm one-shot":
category words and their producer synonyms, tempos and tempo ranges, keys and
"loop" / "one-shot" become filters, and the rest of the words are searched as
text. Each understood phrase is reported (:class:`Reading`) so a page can show
it as a chip that, removed, searches the phrase as words again (``literal``).
A filter the request sets itself wins over a reading of the words.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from search.filters import SearchFilters
from search.keys import UnknownKey, parse_key

# Producer words for each category (the category's own name, plural and short forms).
# Words that name a sound as often as a category ("crash", "lead", "sub", "beat") are
# left to the text search.
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "kick": ("kick", "kicks", "bd", "bassdrum", "bass drum", "kickdrum", "kick drum"),
    "snare": ("snare", "snares", "sd", "snr", "rimshot"),
    "clap": ("clap", "claps", "handclap", "handclaps"),
    "hihat": ("hihat", "hihats", "hi hat", "hi hats", "hat", "hats", "hh", "chh", "ohh"),
    "cymbal": ("cymbal", "cymbals"),
    "tom": ("tom", "toms"),
    "percussion": ("perc", "percs", "percussion"),
    "bass": ("bass", "basses", "bassline", "808", "808s"),
    "synth": ("synth", "synths"),
    "keys": ("keys", "piano", "pianos", "rhodes", "epiano"),
    "pad": ("pad", "pads"),
    "vocal": ("vocal", "vocals", "vox", "voice", "acapella"),
    "fx": ("fx", "sfx"),
    "drum_loop": ("drum loop", "drum loops", "drumloop", "drumloops", "breakbeat", "breakbeats"),
    "music_loop": ("music loop", "music loops", "melody loop", "melodic loop", "melody loops"),
}
LOOP_WORDS = ("loop", "loops")
ONE_SHOT_WORDS = ("one shot", "one shots", "oneshot", "oneshots")
GLUE_WORDS = frozenset({"a", "an", "the", "in", "at", "of", "with", "and", "for"})
# How far "120 bpm" reaches either side: analysed tempos are rarely whole numbers.
BPM_TOLERANCE = 1.0

_PHRASES = sorted(
    [(word, ("category", name)) for name, words in CATEGORY_WORDS.items() for word in words]
    + [(word, ("loop", True)) for word in LOOP_WORDS]
    + [(word, ("loop", False)) for word in ONE_SHOT_WORDS],
    key=lambda item: -len(item[0].split()),
)
_PHRASE = dict(_PHRASES)
_TEMPO_RANGE = re.compile(
    r"(?<![\w.])(\d{2,3}(?:\.\d+)?)\s*(?:-|–|to)\s*(\d{2,3}(?:\.\d+)?)\s*bpm\b", re.IGNORECASE
)
_TEMPO = re.compile(r"(?<![\w.-])(\d{2,3}(?:\.\d+)?)\s*bpm\b", re.IGNORECASE)
# A key on its own: a capital note with an accidental or a mode (F#, Bb, Cm, F#min, Amaj),
# or a Camelot code (8A). A lone capital letter ("A") only before a mode word.
_COMPACT_KEY = re.compile(
    r"^(?:[A-G](?:[#♯b♭](?:m|min|minor|maj|major)?|(?:m|min|maj))|(?:1[0-2]|[1-9])[AB])$"
)
_NOTE = re.compile(r"^[A-Ga-g][#♯b♭]?$")
_MODE_WORDS = {"minor": "minor", "min": "minor", "major": "major", "maj": "major"}
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Reading:
    """One understood phrase: its words as typed, what it set, and a label for its chip."""

    phrase: str
    label: str
    changes: dict[str, Any] = field(hash=False, compare=False)


@dataclass
class Understood:
    """The words left for the text search, the filters with the readings, and the readings."""

    text: str
    filters: SearchFilters
    readings: list[Reading] = field(default_factory=list)
    changed: bool = False  # whether the words or filters differ from what was asked


def understand(
    text: str, filters: SearchFilters | None = None, *, literal: Collection[str] = ()
) -> Understood:
    """Read ``text`` for filters; phrases in ``literal`` (or set by ``filters``) stay words.

    ``understand("hh 120 bpm")`` -> text ``""``, ``categories=("hihat",)``,
    ``bpm_min=119, bpm_max=121``.
    """
    filters = filters or SearchFilters()
    literal = {phrase.strip().lower() for phrase in literal if phrase.strip()}
    values: dict[str, Any] = {}
    readings: list[Reading] = []
    consumed: list[str] = []
    remaining = text

    def take(match_text: str, label: str, changes: dict[str, Any]) -> bool:
        phrase = " ".join(match_text.split())
        if phrase.lower() in literal:
            return False
        # The request's own filters win; words that say what they already say are
        # taken without a reading (a facet link keeps "A minor" in the box).
        if all(getattr(filters, name) == value for name, value in changes.items()):
            consumed.append(phrase)
            return True
        if any(getattr(filters, name) != _default(filters, name) for name in changes):
            return False
        if "categories" in changes and "categories" in values:  # "kick snare": either
            changes = {"categories": values["categories"] + changes["categories"]}
        elif any(name in values for name in changes):
            return False
        values.update(changes)
        readings.append(Reading(phrase, label, changes))
        return True

    for pattern, reader in ((_TEMPO_RANGE, _tempo_range), (_TEMPO, _tempo)):
        for match in list(pattern.finditer(remaining)):
            label, changes = reader(match)
            if take(match.group(0), label, changes):
                remaining = remaining.replace(match.group(0), " ", 1)

    tokens = _TOKEN.findall(remaining)
    kept: list[str] = []
    index = 0
    while index < len(tokens):
        used = _read_key(tokens, index, take) or _read_phrase(tokens, index, take)
        if used:
            index += used
        else:
            kept.append(tokens[index])
            index += 1
    if readings or consumed:  # what joined the read words ("pad in A minor") means nothing alone
        kept = [word for word in kept if _bare(word) not in GLUE_WORDS]
    words = " ".join(kept)
    changed = bool(readings or consumed)
    return Understood(words, filters.replace(**values) if values else filters, readings, changed)


def _default(filters: SearchFilters, name: str) -> Any:
    from search.filters import registry

    return registry.fields()[name]


def _bpm(value: str) -> float:
    return float(value)


def _tempo(match: re.Match) -> tuple[str, dict[str, Any]]:
    bpm = _bpm(match.group(1))
    low, high = bpm - BPM_TOLERANCE, bpm + BPM_TOLERANCE
    return f"{bpm:g} BPM", {"bpm_min": low, "bpm_max": high}


def _tempo_range(match: re.Match) -> tuple[str, dict[str, Any]]:
    low, high = sorted((_bpm(match.group(1)), _bpm(match.group(2))))
    return f"{low:g}–{high:g} BPM", {"bpm_min": low, "bpm_max": high}


def _bare(token: str) -> str:
    """A token without the punctuation around it ("(kick," -> "kick"); hyphens become spaces."""
    return token.strip(".,;:!?()[]{}\"'").replace("-", " ").replace("_", " ").lower()


def _read_phrase(tokens: list[str], index: int, take) -> int:
    """How many tokens from ``index`` a category or loop phrase used (0: none)."""
    for size in (3, 2, 1):
        words = tokens[index : index + size]
        if len(words) < size:
            continue
        phrase = " ".join(_bare(word) for word in words)
        meaning = _PHRASE.get(" ".join(phrase.split()))
        if meaning is None:
            continue
        kind, value = meaning
        if kind == "category":
            label = f"Category: {value.replace('_', ' ')}"
            changes = {"categories": (value,)}
        else:
            label = "Loop" if value else "One-shot"
            changes = {"is_loop": value}
        if take(" ".join(words), label, changes):
            return size
    return 0


def _read_key(tokens: list[str], index: int, take) -> int:
    """How many tokens from ``index`` a key used: "A minor", "C maj", "F#", "Cm", "8A"."""
    first = tokens[index].strip(".,;:!?()")
    following = tokens[index + 1].strip(".,;:!?()").lower() if index + 1 < len(tokens) else ""
    if _NOTE.match(first) and following in _MODE_WORDS:
        # "a minor" reads as a key too; a lower-case note alone ("a", "e") does not.
        return (
            2 if _key(f"{first} {_MODE_WORDS[following]}", tokens[index : index + 2], take) else 0
        )
    if _COMPACT_KEY.match(first):
        return 1 if _key(first, [tokens[index]], take) else 0
    return 0


def _key(text: str, words: list[str], take) -> bool:
    try:
        key, mode = parse_key(text)
    except UnknownKey:
        return False
    label = f"Key: {key} {mode}" if mode else f"Key: {key}"
    return take(" ".join(words), label, {"key": key, "mode": mode})
