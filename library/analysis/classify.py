"""One-shot or loop, and the category: the trained model's reading plus the file name's words.

The audio is read by the model in ``category`` (probabilities over
``CATEGORIES``). Words in the file name ("BD", "Kick", "CHH", "Snr", "808",
"Pad", "Vox", "FX", "Loop"...) name categories; the model multiplies their
odds by ``name_odds``, a factor fitted on sounds the model had not heard, so
a name settles a sound the audio leaves open but does not overturn a
confident reading. A sound is a loop when its category is a loop category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from library.analysis import category as model_category
from library.analysis.constants import CATEGORIES

__all__ = ["CATEGORIES", "Decision", "classify", "named_categories", "name_tokens"]

# Words (lower-case tokens of the file name) and the category they point to.
NAME_WORDS: dict[str, tuple[str, ...]] = {
    "kick": ("kick", "kik", "kck", "bd", "bassdrum", "kicks"),
    "snare": ("snare", "snr", "sn", "sd", "snares", "rimshot"),
    "clap": ("clap", "clp", "cp", "claps", "snap", "snaps"),
    "hihat": ("hat", "hats", "hh", "chh", "ohh", "hihat", "hihats", "ch", "oh", "closedhat"),
    "cymbal": ("cymbal", "cym", "crash", "ride", "splash", "china", "cymbals"),
    "tom": ("tom", "toms", "floortom"),
    "percussion": (
        "perc",
        "percussion",
        "shaker",
        "conga",
        "bongo",
        "cowbell",
        "rim",
        "clave",
        "tamb",
        "tambourine",
        "block",
        "woodblock",
        "triangle",
        "guiro",
        "timbale",
    ),  # fmt: skip
    "bass": ("bass", "808", "sub", "reese", "bassline", "basses"),
    "synth": ("synth", "lead", "pluck", "arp", "stab", "saw", "chord", "chords", "bell"),
    "keys": ("keys", "piano", "rhodes", "ep", "organ", "wurli", "epiano", "keyboard"),
    "pad": ("pad", "pads", "atmos", "atmosphere", "drone", "texture", "ambient"),
    "vocal": ("vox", "vocal", "vocals", "voc", "acapella", "chant", "voice", "adlib", "choir"),
    "fx": (
        "fx",
        "sfx",
        "riser",
        "sweep",
        "impact",
        "whoosh",
        "uplifter",
        "downlifter",
        "noise",
        "transition",
        "zap",
        "laser",
        "boom",
        "reverse",
        "foley",
    ),  # fmt: skip
}
_WORD_CATEGORY = {word: category for category, words in NAME_WORDS.items() for word in words}
_LOOP_WORDS = {"loop", "loops", "lp", "groove", "break", "breakbeat", "beat", "top", "tops"}
_ONESHOT_WORDS = {"oneshot", "one", "shot", "hit", "oneshots", "single"}
_DRUM_LOOP_WORDS = {"drum", "drums", "beat", "break", "breakbeat", "groove", "top", "tops"}

DRUM_CATEGORIES = frozenset(
    {"kick", "snare", "clap", "hihat", "cymbal", "tom", "percussion", "drum_loop"}
)


def name_tokens(filename: str | None) -> list[str]:
    """Lower-case words of a file name, split on punctuation, case changes and digits."""
    if not filename:
        return []
    stem = re.sub(r"\.[A-Za-z0-9]{2,4}$", "", filename.rsplit("/", 1)[-1])
    stem = re.sub(r"([a-z])([A-Z])", r"\1 \2", stem)
    tokens = re.split(r"[^A-Za-z0-9]+|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", stem)
    return [t.lower() for t in tokens if t]


def named_categories(filename: str | None) -> set[str]:
    """The categories the words of ``filename`` name ("Kick Loop 120bpm" names drum loops)."""
    words = name_tokens(filename)
    named = {_WORD_CATEGORY[w] for w in words if w in _WORD_CATEGORY}
    if "bass" in words and "drum" in words:
        named = (named - {"bass"}) | {"kick"}  # "bass drum" is a kick
    looped = any(w in _LOOP_WORDS for w in words) or re.search(r"\d+\s*bpm", filename or "", re.I)
    if looped and not any(w in _ONESHOT_WORDS for w in words):
        # "Hat Loop" is a drum loop, "Bass Loop" a music loop; vocal and fx loops keep their kind.
        drums = bool(named & DRUM_CATEGORIES) or any(w in _DRUM_LOOP_WORDS for w in words)
        kind = "drum_loop" if drums else "music_loop"
        named = (named & {"vocal", "fx"}) | {kind}
    return named


@dataclass(frozen=True)
class Decision:
    """The category reading of one sound; everything else derives from its probabilities."""

    probabilities: dict[str, float]  # every category, after the name's evidence
    hidden: np.ndarray  # the model's second hidden layer, unit length
    projected: np.ndarray  # that layer on its main directions (``category.Reading``)
    heard: np.ndarray  # untempered probabilities from the audio alone (``Reading.untempered``)

    @property
    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])

    @property
    def category(self) -> str:
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked[0][1]

    @property
    def top(self) -> list[tuple[str, float]]:
        """The three likeliest, with probabilities."""
        return [(c, round(p, 4)) for c, p in self.ranked[:3]]

    @property
    def is_loop(self) -> bool:
        return self.category in model_category.LOOP_CATEGORIES

    @property
    def loop_share(self) -> float:
        return sum(self.probabilities[c] for c in model_category.LOOP_CATEGORIES)

    def with_loop_evidence(self, odds: float) -> Decision:
        """The same reading with the odds of the loop categories multiplied by ``odds``."""
        loops = set(model_category.LOOP_CATEGORIES)
        probabilities = model_category.scale_odds(self.probabilities, loops, odds)
        return replace(self, probabilities=probabilities)


def classify(features: np.ndarray, filename: str | None) -> Decision:
    """The category of a sound from its ``category.features`` and its file name."""
    model = model_category.model()
    reading = model.read(features)
    named = named_categories(filename)
    probabilities = model_category.scale_odds(reading.probabilities, named, model.name_odds)
    return Decision(probabilities, reading.hidden, reading.projected, reading.untempered)
