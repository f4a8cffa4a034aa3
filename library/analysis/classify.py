"""One-shot or loop, and the category, from audio evidence plus the file name's words.

Each category gets a score from soft rules on the descriptors (sigmoids, so
nothing flips on a hair's width); words in the file name ("BD", "Kick",
"CHH", "Snr", "808", "Pad", "Vox", "FX", "Loop"...) add to their category's
score. A name therefore tips close calls and corrects a weak audio reading,
but a file called "kick" that sounds like a sustained chord is still called
what it sounds like if the audio is clear enough. The confidence is the
winner's share of a softmax over the scores.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

NAME_WEIGHT = 2.0
LOOP_NAME_WEIGHT = 2.5

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


@dataclass
class Features:
    """What the classifier looks at; all computed once by the analyser."""

    duration: float
    onsets: int
    tempo_confidence: float
    bars: float | None
    centroid: float  # Hz
    noisiness: float  # mel flatness above 300 Hz
    tonalness: float  # 0..1
    periodicity: float  # YIN, 0..1
    pitch_hz: float | None
    low_share: float  # energy below 150 Hz
    high_share: float  # energy above 5 kHz
    attack: float  # seconds
    decay: float  # seconds
    sustain: float  # energy share after the first 200 ms
    micro_onsets: int
    centroid_motion: float  # octaves the spectral centroid travels (sweeps)


def name_tokens(filename: str | None) -> list[str]:
    """Lower-case words of a file name, split on punctuation, case changes and digits."""
    if not filename:
        return []
    stem = re.sub(r"\.[A-Za-z0-9]{2,4}$", "", filename.rsplit("/", 1)[-1])
    stem = re.sub(r"([a-z])([A-Z])", r"\1 \2", stem)
    tokens = re.split(r"[^A-Za-z0-9]+|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", stem)
    return [t.lower() for t in tokens if t]


def name_evidence(filename: str | None) -> tuple[dict[str, float], float]:
    """(category -> weight, loop evidence -1..1) from the words of ``filename``."""
    words = name_tokens(filename)
    scores: dict[str, float] = {}
    for word in words:
        category = _WORD_CATEGORY.get(word)
        if category == "bass" and "drum" in words:
            continue  # "bass drum" is a kick
        if category:
            scores[category] = NAME_WEIGHT
    if "bass" in words and "drum" in words:
        scores["kick"] = NAME_WEIGHT
    loop = 0.0
    if any(word in _LOOP_WORDS for word in words) or re.search(r"\d+\s*bpm", filename or "", re.I):
        loop = 1.0
    if any(word in _ONESHOT_WORDS for word in words):
        loop = -1.0
    if loop > 0 and any(word in _DRUM_LOOP_WORDS for word in words):
        scores["drum_loop"] = NAME_WEIGHT
    return scores, loop


def _sig(x: float, centre: float, width: float) -> float:
    """Soft step from 0 (well below ``centre``) to 1 (well above)."""
    z = (x - centre) / width
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _low(x: float, centre: float, width: float) -> float:
    return 1.0 - _sig(x, centre, width)


def loop_probability(f: Features, name_loop: float) -> float:
    """How likely the file is a loop rather than a one-shot (0..1)."""
    if f.duration < 0.75:
        return 0.0
    score = -2.0
    score += 4.0 * _sig(f.tempo_confidence, 0.3, 0.08)
    score += 1.5 if f.bars else 0.0
    score += 1.0 * _sig(f.onsets, 5.5, 1.0)
    score -= 2.0 * _low(f.duration, 1.2, 0.2)
    score += LOOP_NAME_WEIGHT * name_loop
    return _sig(score, 0.0, 1.0)


def audio_scores(f: Features, loop: bool) -> dict[str, float]:
    """Audio evidence per category (roughly log-odds)."""
    log_centroid = math.log2(max(f.centroid, 20.0))
    pitch = f.pitch_hz or 0.0
    periodic = _sig(f.periodicity, 0.9, 0.03)  # a clear fundamental (drums included)
    pitched = periodic * _sig(f.tonalness, 0.5, 0.1)  # ...and steady, in-tune partials
    percussive = _low(f.attack, 0.03, 0.01) * _low(f.sustain, 0.5, 0.1)
    short = _low(f.duration, 1.0, 0.25)
    long_ = _sig(f.duration, 1.3, 0.3)
    noisy = _sig(f.noisiness, 0.12, 0.04)
    bursts = _sig(f.micro_onsets, 1.5, 0.25)
    if loop:
        # Drum loops are noisy across the spectrum; music loops are not, or are clearly tonal.
        quiet_noise = _low(f.noisiness, 0.09, 0.02)
        tonal = quiet_noise * (0.5 + 0.5 * _sig(f.tonalness, 0.25, 0.08))
        tonal = max(tonal, _sig(f.tonalness, 0.6, 0.08))
        return {
            "drum_loop": 1.0 + 3.0 * (1 - tonal),
            "music_loop": 1.0 + 3.0 * tonal,
            "other": 0.0,
        }
    return {
        "kick": 3.0 * _sig(f.low_share, 0.45, 0.08)
        + 1.0 * _low(log_centroid, math.log2(900), 0.5)
        + 1.0 * percussive
        + 1.0 * _low(f.decay, 0.9, 0.2)
        - 3.0 * pitched
        - 2.0 * periodic * _sig(pitch, 90, 15)
        - 2.0 * _sig(f.duration, 1.5, 0.3),
        "snare": 2.0 * noisy
        + 1.5 * _sig(log_centroid, math.log2(1200), 0.5) * _low(log_centroid, math.log2(7000), 0.5)
        + 1.0 * percussive
        + 1.0 * _low(f.decay, 0.6, 0.15)
        - 2.0 * bursts
        - 2.0 * long_
        - 1.5 * _sig(f.sustain, 0.4, 0.1),
        "clap": 1.5 * noisy
        + 3.0 * bursts
        + 1.0 * _sig(log_centroid, math.log2(900), 0.5) * _low(log_centroid, math.log2(4500), 0.5)
        + 0.5 * percussive
        - 2.0 * long_,
        "hihat": 3.0 * _sig(f.high_share, 0.55, 0.1)
        + 1.0 * _sig(log_centroid, math.log2(6000), 0.4)
        + 1.0 * _low(f.decay, 0.6, 0.2)
        + 0.5 * short,
        "cymbal": 2.5 * _sig(f.high_share, 0.45, 0.1)
        + 1.5 * _sig(f.decay, 0.8, 0.2)
        + 1.0 * _sig(f.duration, 1.2, 0.3),
        "tom": 2.5 * periodic * _sig(pitch, 60, 10) * _low(pitch, 320, 40)
        + 1.5 * percussive
        + 1.0 * _low(f.decay, 0.9, 0.2)
        + 1.0 * _sig(f.noisiness, 0.06, 0.02) * _low(f.noisiness, 0.4, 0.08)
        - 2.0 * _sig(f.tonalness, 0.5, 0.1)
        - 2.0 * (1 - periodic),
        "percussion": 1.5 * short
        + 1.0 * percussive
        + 1.0 * _sig(log_centroid, math.log2(700), 0.5)
        + 0.5 * _low(f.decay, 0.3, 0.1)
        - 1.0 * _sig(f.high_share, 0.6, 0.1),
        "bass": 2.5 * pitched * _low(pitch, 160, 25)
        + 1.0 * _sig(f.low_share, 0.4, 0.1)
        + 1.0 * _sig(f.duration, 0.35, 0.1) * _sig(f.decay, 0.25, 0.08),
        "synth": 2.0 * pitched * _sig(pitch, 140, 25)
        + 1.0 * _sig(f.sustain, 0.5, 0.1)
        + 1.0 * _sig(log_centroid, math.log2(1200), 0.5),
        "keys": 2.0 * pitched * _sig(pitch, 100, 20)
        + 1.5 * _low(f.attack, 0.02, 0.008) * _sig(f.decay, 0.3, 0.1) * _low(f.sustain, 0.7, 0.1)
        + 0.5 * _low(log_centroid, math.log2(2000), 0.5),
        # Pads are long and usually chords; a short single note is a synth.
        "pad": 2.0 * _sig(f.tonalness, 0.6, 0.1)
        + 1.0 * _sig(f.attack, 0.1, 0.04)
        + 2.5 * _sig(f.duration, 2.2, 0.4)
        + 0.5 * _sig(f.sustain, 0.7, 0.1)
        - 1.0 * periodic * _low(f.duration, 2.5, 0.4)
        - 1.0 * _low(f.attack, 0.02, 0.008),
        "vocal": 0.0,
        "fx": 1.5 * long_ * (1 - pitched)
        + 2.0 * _sig(f.centroid_motion, 1.5, 0.3) * long_
        + 1.0 * noisy * long_
        + 1.5 * noisy * _sig(f.sustain, 0.4, 0.1),
        "other": 1.0,
    }


def classify(f: Features, filename: str | None) -> tuple[bool, str, float]:
    """``(is_loop, category, confidence)``."""
    name_scores, name_loop = name_evidence(filename)
    is_loop = loop_probability(f, name_loop) >= 0.5
    scores = audio_scores(f, is_loop)
    if is_loop:
        # Loops of one instrument ("Bass Loop", "Vox Loop") keep the loop categories,
        # except vocals and effects, which people look for by what they are.
        for category in ("vocal", "fx"):
            if category in name_scores:
                scores[category] = 1.0
    for category, weight in name_scores.items():
        if category in scores:
            scores[category] += weight
        elif is_loop:
            # "Bass Loop", "Hat Loop": the instrument says which kind of loop it is.
            kind = "drum_loop" if category in DRUM_CATEGORIES else "music_loop"
            scores[kind] += weight / 2
    top = max(scores.values())
    exp = {c: math.exp(s - top) for c, s in scores.items()}
    best = max(exp, key=exp.get)
    return is_loop, best, exp[best] / sum(exp.values())
