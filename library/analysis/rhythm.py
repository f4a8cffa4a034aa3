"""Onsets and tempo, from the positive flux of the mel spectrogram.

The flux is taken on mel power raised to 0.3 (not on dB), so accents survive:
a quiet hat moves the envelope less than a loud kick. It is summed in four
regions (sub/kick below 175 Hz, body/snare to 760 Hz, mids to 2.8 kHz, highs)
and slightly smoothed, so a few milliseconds of swing or humanisation do not
decorrelate it.

Tempo candidates are the peaks of a salience curve (the autocorrelation of
the summed, region-normalised flux at one, two and four beats) plus their
halves and doubles. Half/double errors are the usual failure, so each
candidate is weighed by

- a log-normal preference centred on 125 BPM (0.75 octave wide);
- for files short enough to be loops cut to length, whether the duration
  is a whole number of bars at that tempo (a power-of-two count counts
  most); a winner that fits is snapped to the exact tempo the length implies;
- for percussive material, the backbeat: a kick on beat one and snare-region
  hits on beats two and four and not on one and three, which is what fixes
  the beat level a producer would write on the file.

Short files are analysed circularly (the loop wraps around), which is exact
for a loop cut at its bar lines and lets a one-bar loop show its own period.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from library.analysis.spectral import Spectrum

# Mel-band index ranges of the four regions (see spectral.N_MELS).
REGIONS = ((0, 4), (4, 16), (16, 36), (36, 64))
MIN_BPM, MAX_BPM = 40.0, 240.0
PRIOR_CENTRE_BPM = 125.0
PRIOR_OCTAVES = 0.75
# Files up to this long, decoded whole, are analysed as loops cut to length.
LOOP_MAX_SECONDS = 40.0
MIN_CONFIDENCE = 0.15
MIN_ONSETS = 3
# The confidence of a tempo read from a loop's length alone (no audible pulse).
LENGTH_CONFIDENCE = 0.1
CHOOSER_PATH = Path(__file__).with_name("models") / "tempo.npz"
CHROMA_HOP = 2048 / 22050  # tonal.TONAL_HOP at spectral.SR
_GRID = np.exp(np.linspace(math.log(MIN_BPM), math.log(MAX_BPM), 720))
_SMOOTH = np.exp(-0.5 * (np.arange(-3, 4) / 1.2) ** 2)
_SMOOTH /= _SMOOTH.sum()


@dataclass
class Tempo:
    bpm: float | None
    confidence: float
    bars: float | None = None  # whole bars in the file at that tempo, when it fits


def onset_envelope(spec: Spectrum, *, circular: bool) -> np.ndarray:
    """Smoothed positive flux of compressed mel power per region, ``(frames, 4)``."""
    mel = spec.mel
    top = float(mel.max()) if mel.size else 0.0
    if top <= 0:
        return np.zeros((mel.shape[0], len(REGIONS)), dtype=np.float32)
    compressed = (mel / top) ** 0.3
    previous = compressed[-1:] if circular else compressed[:1]
    flux = np.maximum(np.diff(compressed, axis=0, prepend=previous), 0.0)
    regions = np.stack([flux[:, a:b].sum(axis=1) for a, b in REGIONS], axis=1)
    mode = "wrap" if circular else "edge"
    padded = np.pad(regions, ((3, 3), (0, 0)), mode=mode)
    kernel = _SMOOTH[:, None]
    windows = np.lib.stride_tricks.sliding_window_view(padded, 7, axis=0)
    return (windows @ kernel[:, 0]).astype(np.float32)


def onset_frames(envelope: np.ndarray, fps: float) -> np.ndarray:
    """Frame indices of onsets: local maxima of the summed flux above an adaptive threshold."""
    total = envelope.sum(axis=1)
    if total.size < 3 or total.max() <= 0:
        return np.zeros(0, dtype=int)
    width = max(1, int(0.05 * fps))
    padded = np.pad(total, width, mode="edge")
    is_max = total >= np.lib.stride_tricks.sliding_window_view(padded, 2 * width + 1).max(axis=1)
    local = np.convolve(np.pad(total, 8, mode="edge"), np.ones(17) / 17, mode="valid")
    threshold = np.maximum(local * 1.3, 0.1 * total.max())
    peaks = np.flatnonzero(is_max & (total > threshold))
    if peaks.size > 1:  # one onset per plateau
        peaks = peaks[np.concatenate(([True], np.diff(peaks) > width))]
    return peaks


def _autocorrelation(x: np.ndarray, circular: bool) -> np.ndarray:
    """Normalised autocorrelation (lag 0 is 1)."""
    x = x - x.mean()
    n = x.size
    size = n if circular else 2 * n
    spectrum = np.fft.rfft(x, n=size)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=size)[:n]
    if not circular:
        acf = acf / (n - np.arange(n)) * n  # unbiased: long lags are not penalised
    return acf / acf[0] if acf[0] > 1e-12 else np.zeros_like(acf)


def _at(x: np.ndarray, positions: np.ndarray | float, circular: bool) -> np.ndarray:
    """``x`` linearly interpolated at fractional ``positions`` (wrapping when circular)."""
    n = x.size
    positions = np.asarray(positions, dtype=float)
    if circular:
        positions = np.mod(positions, n)
        lo = np.floor(positions).astype(int)
        frac = positions - lo
        return x[lo % n] * (1 - frac) + x[(lo + 1) % n] * frac
    values = np.interp(np.minimum(positions, n - 1), np.arange(n), x)
    return np.where(positions < n - 1, values, 0.0)


def _lag_limit(frames: int, circular: bool) -> float:
    # In a circular autocorrelation the whole-file lag correlates perfectly by
    # construction and lags past half the file repeat shorter ones.
    return frames / 2 + 1 if circular else frames * 0.75


def _salience(acf: np.ndarray, lags: np.ndarray, frames: int, circular: bool) -> np.ndarray:
    """Correlation at one, two and four beats, using only lags that can be observed."""
    limit = _lag_limit(frames, circular)
    total = np.zeros_like(lags)
    weight = np.zeros_like(lags)
    for multiple, w in ((1, 1.0), (2, 0.5), (4, 0.5)):
        usable = multiple * lags <= limit
        values = np.maximum(0.0, _at(acf, multiple * lags, circular))
        total += np.where(usable, w * values, 0.0)
        weight += np.where(usable, w, 0.0)
    salience = np.divide(total, weight, out=np.zeros_like(total), where=weight > 0)
    salience[lags > limit] = 0.0
    return salience


def prior(bpm: np.ndarray | float) -> np.ndarray:
    """Preference for the usual loop tempi: a log-normal around 125 BPM."""
    return np.exp(-0.5 * (np.log2(np.asarray(bpm) / PRIOR_CENTRE_BPM) / PRIOR_OCTAVES) ** 2)


def _bar_fit(bpm: float, duration: float) -> tuple[float, float | None, float]:
    """(bonus, bars, snapped bpm) for a file of ``duration`` cut at bar lines."""
    whole = round(duration * bpm / 240.0)
    if whole >= 1:
        snapped = 240.0 * whole / duration
        if abs(snapped / bpm - 1) < 0.03:
            power_of_two = whole & (whole - 1) == 0
            return (1.6 if power_of_two else 1.25), float(whole), snapped
    beats = round(duration * bpm / 60.0)
    if beats >= 2:
        snapped = 60.0 * beats / duration
        if abs(snapped / bpm - 1) < 0.02:
            return 1.05, None, snapped
    return 1.0, None, bpm


def tempo_from_length(duration: float) -> Tempo:
    """The tempo of a loop cut at its bar lines whose pulse cannot be heard (held chords):
    a power-of-two count of 4/4 bars, the count whose tempo the usual-tempo preference
    likes best. Only for what the classifier already calls a loop."""
    options = [
        (float(prior(240.0 * n / duration)), 240.0 * n / duration, float(n))
        for n in _BARS
        if duration > 0 and MIN_BPM <= 240.0 * n / duration <= MAX_BPM
    ]
    if not options:
        return Tempo(None, 0.0)
    _, bpm, bars = max(options)
    return Tempo(round(bpm, 2), LENGTH_CONFIDENCE, bars)


def _refine(acf: np.ndarray, bpm: float, fps: float, circular: bool, frames: int) -> float:
    """Sub-grid precision: the best-correlated period near ``bpm``, over 1-4 beat lags."""
    fine = bpm * np.exp(np.linspace(-0.012, 0.012, 49))
    lags = 60.0 * fps / fine
    limit = _lag_limit(frames, circular)
    score = sum(
        np.where(k * lags <= limit, _at(acf, k * lags, circular), 0.0) for k in (1, 2, 3, 4)
    )
    return float(fine[int(np.argmax(score))])


def _backbeat(kick: np.ndarray, snare: np.ndarray, period: float, circular: bool) -> float:
    """How well "kick on one, snare on two and four" fits at beat ``period`` (frames), ~0..1.5."""
    bar = 4 * period
    bars = max(1, int(round(snare.size / bar)))
    phases = np.arange(0.0, bar, 1.0)
    starts = phases[:, None] + bar * np.arange(bars)[None, :]

    def at(x: np.ndarray, offset: float) -> np.ndarray:
        return _at(x, starts + offset, circular)

    backbeats = np.minimum(at(snare, period), at(snare, 3 * period))
    downbeats = np.maximum(at(snare, 0), at(snare, 2 * period))
    kick_fit = at(kick, 0) - np.maximum(at(kick, period), at(kick, 3 * period))
    return float((backbeats - downbeats + 0.5 * kick_fit).mean(axis=1).max())


def estimate_tempo(
    envelope: np.ndarray,
    fps: float,
    duration: float,
    *,
    circular: bool,
    onsets: int,
    drumness: float = 0.0,
    hint_bpm: float | None = None,
    chroma: np.ndarray | None = None,
) -> Tempo:
    """Tempo and confidence (0..1) from the region flux; ``bpm`` None where there is no pulse.

    ``onsets`` is the number of onsets found: a pulse needs a few. ``drumness``
    (0..1) says how much the backbeat rule applies. ``chroma`` (frames of pitch
    classes every ``CHROMA_HOP`` seconds) lets chord changes help choose between a
    tempo, its half and its double. ``hint_bpm`` (a tempo
    written in the file name) is taken when the audio supports it, or its half
    or double, and is used alone when the audio has no pulse but its length
    fits whole bars at that tempo.
    """
    frames = envelope.shape[0]
    no_pulse = Tempo(None, 0.0)
    found = []
    if frames >= fps and duration >= 1.0 and onsets >= MIN_ONSETS:
        found = _candidates(envelope, fps, duration, circular, drumness)
        if circular and found:
            found = choose_level(found, envelope, fps, duration, onsets, drumness, chroma)
        if circular and (not found or found[0][2] is None):
            # No tempo fits whole bars: the file was probably not cut at its bar
            # lines, and wrapping it round puts a seam in the pulse. Read it as a
            # straight excerpt too and keep whichever pulse is stronger.
            linear = _candidates(envelope, fps, duration, False, drumness)
            if linear and (not found or linear[0][1] > found[0][1]):
                found = linear
    if hint_bpm:
        for bpm, strength, _bars in found:
            ratio = bpm / hint_bpm
            if any(abs(math.log2(ratio * f)) < 0.06 for f in (0.5, 1.0, 2.0)):
                fit = _bar_fit(hint_bpm, duration) if circular else (1.0, None, hint_bpm)
                confidence = max(strength, 0.5)
                return Tempo(round(hint_bpm, 2), round(min(1.0, confidence), 3), fit[1])
        fit = _bar_fit(hint_bpm, duration)
        if circular and fit[1] is not None and abs(fit[2] / hint_bpm - 1) < 0.02:
            return Tempo(round(hint_bpm, 2), 0.3, fit[1])
    if not found:
        return no_pulse
    bpm, strength, bars = found[0]
    confidence = min(1.0, strength * (1.15 if bars else 1.0)) * min(1.0, onsets / 6)
    if confidence < MIN_CONFIDENCE:
        return Tempo(None, round(confidence, 3))
    return Tempo(round(bpm, 2), round(confidence, 3), bars)


def _candidates(
    envelope: np.ndarray, fps: float, duration: float, circular: bool, drumness: float
) -> list[tuple[float, float, float | None]]:
    """``(bpm, salience, bars)`` of the plausible tempi, best first."""
    frames = envelope.shape[0]
    spread = envelope.std(axis=0)
    if spread.max() <= 1e-9:
        return []
    pulse = (envelope / np.maximum(spread, 1e-9) * (spread > 1e-9)).sum(axis=1)
    acf = _autocorrelation(pulse, circular)
    salience = _salience(acf, 60.0 * fps / _GRID, frames, circular)
    peaks = np.flatnonzero(
        (salience > 0)
        & (salience >= np.roll(salience, 1))
        & (salience >= np.roll(salience, -1))
        & (salience > 0.3 * salience.max())
    )
    if peaks.size == 0:
        return []
    kick = envelope[:, 0] / max(float(envelope[:, 0].max()), 1e-9)
    snare = envelope[:, 1] + envelope[:, 2]
    snare = snare / max(float(snare.max()), 1e-9)
    scored: dict[float, tuple[float, float, float, float | None]] = {}
    for index in peaks:
        for factor in (0.5, 1.0, 2.0):
            bpm = float(_GRID[index]) * factor
            if not MIN_BPM <= bpm <= MAX_BPM:
                continue
            bpm = _refine(acf, bpm, fps, circular, frames)
            bonus, bars = 1.0, None
            if circular:
                bonus, bars, bpm = _bar_fit(bpm, duration)
            key = round(bpm, 1)
            if key in scored:
                continue
            period = 60.0 * fps / bpm
            strength = float(_salience(acf, np.array([period]), frames, circular)[0])
            score = (0.05 + strength) * float(prior(bpm)) * bonus
            if drumness > 0:
                score *= math.exp(drumness * _backbeat(kick, snare, period, circular))
            scored[key] = (score, bpm, strength, bars)
    ranked = sorted(scored.values(), key=lambda item: item[0], reverse=True)
    return [(bpm, strength, bars) for _, bpm, strength, bars in ranked]


# -- the metrical level: a learned choice between a tempo, its half and its double ----------


@dataclass
class Level:
    """A candidate tempo of a loop read circularly and what the chooser reads of it."""

    bpm: float
    strength: float
    bars: float | None
    features: np.ndarray


def _pulse(envelope: np.ndarray) -> np.ndarray:
    spread = envelope.std(axis=0)
    return (envelope / np.maximum(spread, 1e-9) * (spread > 1e-9)).sum(axis=1)


def _grid_means(x: np.ndarray, period: float, offsets: tuple[float, ...]) -> np.ndarray:
    """``(phases, len(offsets))``: mean of ``x`` (circular) at ``phase + offset + k * step``,
    where the step is ``period`` times the number of offsets, for phases over one step."""
    step = period * len(offsets)
    count = max(1, int(x.size // step))
    phases = np.arange(0.0, step, 1.0)[:, None, None]
    at = phases + np.array(offsets)[None, :, None] * period + step * np.arange(count)[None, None]
    return _at(x, at, True).mean(axis=2)


def _contrasts(x: np.ndarray, period: float) -> tuple[float, float]:
    """How much more ``x`` holds on the beat than half-way between beats, and how different
    alternate beats are (large when the candidate beat is really a half-beat), each 0..1."""
    top = float(x.max())
    if top <= 1e-9:
        return 0.0, 0.0
    x = np.maximum(x, 0.0) / top
    half = _grid_means(x, period / 2, (0.0, 1.0))  # on the beat, half-way between
    on = int(np.argmax(half[:, 0]))
    alternate = _grid_means(x, period, (0.0, 1.0))
    strong = int(np.argmax(alternate.max(axis=1)))
    return (
        float((half[on, 0] - half[on, 1]) / (half[on].sum() + 1e-9)),
        float(abs(alternate[strong, 0] - alternate[strong, 1]) / (alternate[strong].sum() + 1e-9)),
    )


def _chord_changes(chroma: np.ndarray | None, bpm: float, duration: float) -> list[float]:
    """How much the pitch classes change from one beat to the next at bar lines, half-way
    through bars and on the other beats (a loop read circularly starts on a bar line), and
    the share of beats that start a new chord."""
    if chroma is None or chroma.shape[0] < 2:
        return [0.0, 0.0, 0.0, 0.0]
    beats = int(round(duration * bpm / 60.0))
    if beats < 2:
        return [0.0, 0.0, 0.0, 0.0]
    centres = np.arange(chroma.shape[0]) * CHROMA_HOP
    index = np.clip((centres * bpm / 60.0).astype(int), 0, beats - 1)
    per_beat = np.zeros((beats, 12))
    np.add.at(per_beat, index, chroma)
    norm = np.linalg.norm(per_beat, axis=1, keepdims=True)
    per_beat = np.divide(per_beat, norm, out=np.zeros_like(per_beat), where=norm > 1e-12)
    change = 1.0 - (per_beat * np.roll(per_beat, 1, axis=0)).sum(axis=1)  # into beat k
    top = max(float(change.max()), 1e-9)
    position = np.arange(beats) % 4
    return [
        float(change[position == 0].mean() / top),
        float(change[position == 2].mean() / top) if beats > 2 else 0.0,
        float(change[position % 2 == 1].mean() / top),
        float((change > 0.5 * top).mean()),
    ]


# Centres (BPM) of the learned tempo preference's triangular basis, a quarter octave apart.
_PREFERENCE = np.log2(40.0 * 2 ** (np.arange(12) / 4))
_BARS = (1, 2, 4, 8)


def level_features(
    bpm: float,
    strength: float,
    bars: float | None,
    envelope: np.ndarray,
    pulse: np.ndarray,
    fps: float,
    duration: float,
    onsets: int,
    backbeat: float,
    chroma: np.ndarray | None = None,
) -> np.ndarray:
    """What tells a beat from its half or double: which tempi are usual (a triangular basis
    over log tempo), the pulse's strength, how many whole bars the file holds, how onsets
    fall on the beats against between them and on alternate beats (all regions together,
    the lows, the mids, the highs), the backbeat, how many onsets a beat holds, and where
    the chords change (``_chord_changes``)."""
    period = 60.0 * fps / bpm
    preference = np.maximum(0.0, 1.0 - np.abs(math.log2(bpm) - _PREFERENCE) * 4)
    whole = round(bars) if bars else 0
    counts = [float(whole == n) for n in _BARS]
    counts += [float(whole > _BARS[-1]), float(whole > 0 and whole not in _BARS)]
    regions = (
        pulse,
        envelope[:, 0],
        envelope[:, 1] + envelope[:, 2],
        envelope[:, 3],
    )
    contrasts = [c for x in regions for c in _contrasts(x, period)]
    beats = duration * bpm / 60.0
    return np.concatenate(
        [
            preference,
            [strength],
            counts,
            contrasts,
            [backbeat, math.log2(max(onsets, 1) / max(beats, 1e-3))],
            _chord_changes(chroma, bpm, duration),
        ]
    )


def levels(
    found: list[tuple[float, float, float | None]],
    envelope: np.ndarray,
    fps: float,
    duration: float,
    onsets: int,
    drumness: float,
    chroma: np.ndarray | None = None,
) -> list[Level]:
    """The best candidate in ``found``, its half and its double, with their features."""
    best = found[0][0]
    pulse = _pulse(envelope)
    acf = _autocorrelation(pulse, True)
    frames = envelope.shape[0]
    kick = envelope[:, 0] / max(float(envelope[:, 0].max()), 1e-9)
    snare = envelope[:, 1] + envelope[:, 2]
    snare = snare / max(float(snare.max()), 1e-9)
    out = []
    for factor in (0.5, 1.0, 2.0):
        target = best * factor
        if not MIN_BPM <= target <= MAX_BPM:
            continue
        known = [f for f in found if abs(math.log2(f[0] / target)) < 0.03]
        if known:
            bpm, strength, bars = known[0]
        else:
            bpm = _refine(acf, target, fps, True, frames)
            _, bars, bpm = _bar_fit(bpm, duration)
            period = 60.0 * fps / bpm
            strength = float(_salience(acf, np.array([period]), frames, True)[0])
        backbeat = drumness * _backbeat(kick, snare, 60.0 * fps / bpm, True)
        features = level_features(
            bpm, strength, bars, envelope, pulse, fps, duration, onsets, backbeat, chroma
        )
        out.append(Level(bpm, strength, bars, features))
    return out


@lru_cache(maxsize=1)
def _chooser() -> dict[str, np.ndarray] | None:
    if not CHOOSER_PATH.exists():
        return None
    with np.load(CHOOSER_PATH) as data:
        return dict(data)


def chooser_inputs(features: np.ndarray) -> np.ndarray:
    """``(options, 2D + 1)``: each option's features, how they differ from the options'
    mean, and how many options there are."""
    count = np.full((features.shape[0], 1), float(features.shape[0]))
    return np.concatenate([features, features - features.mean(axis=0), count], axis=1)


def level_scores(features: np.ndarray, model: dict[str, np.ndarray]) -> np.ndarray:
    """The chooser's score of each option: a one-hidden-layer perceptron (ReLU) on the
    standardised ``chooser_inputs``."""
    x = (chooser_inputs(features) - model["mean"]) / model["scale"]
    hidden = np.maximum(0.0, x @ model["w1"] + model["b1"])
    return (hidden @ model["w2"] + model["b2"]).ravel()


def choose_level(
    found: list[tuple[float, float, float | None]],
    envelope: np.ndarray,
    fps: float,
    duration: float,
    onsets: int,
    drumness: float,
    chroma: np.ndarray | None = None,
) -> list[tuple[float, float, float | None]]:
    """``found`` with the metrical level the trained chooser prefers first."""
    model = _chooser()
    if model is None:
        return found
    options = levels(found, envelope, fps, duration, onsets, drumness, chroma)
    if len(options) < 2:
        return found
    scores = level_scores(np.array([o.features for o in options]), model)
    chosen = options[int(np.argmax(scores))]
    # The search found the pulse; the chooser only names its level, so the pulse is as
    # clear as the search's best reading of it.
    strength = max(chosen.strength, found[0][1])
    return [(chosen.bpm, strength, chosen.bars), *found]


_BPM_SUFFIX = re.compile(r"(?<![0-9])([4-9][0-9]|1[0-9]{2}|2[0-4][0-9])[\s_-]?bpm(?![a-z])", re.I)
_BPM_PREFIX = re.compile(r"bpm[\s_-]*([4-9][0-9]|1[0-9]{2}|2[0-4][0-9])(?![0-9])", re.I)


def bpm_from_name(name: str) -> float | None:
    """A tempo written in a file name ("Loop_128bpm", "bpm_90", "120 BPM")."""
    for pattern in (_BPM_SUFFIX, _BPM_PREFIX):
        match = pattern.search(name)
        if match:
            return float(match.group(1))
    return None
