"""The learned key scorer: pitch-class evidence read relative to each of the 24 keys.

From the tonal analysis's per-frame pitch classes (``tonal.TonalProfile``)
the loop is summarised as

- the mean chroma and the mean bass chroma (below ``tonal.BASS_MAX_HZ``);
- the same over its first and last ``1/SEGMENTS`` (loops are cut at bar
  lines and usually open on, or resolve to, the tonic);
- chords: each of ``SEGMENTS`` equal stretches matched against the 24
  major and minor triads (a soft choice), as a histogram over the loop and
  the first and last chord.

For a candidate key these are rotated so that its tonic is pitch class 0
(chords by their root), and a small perceptron scores the rotated vector
(one ReLU layer shared by both modes, one output per mode): the scorer is
the same in every key by construction, so a loop in F# is read exactly as
the same loop in C. The weights are fitted by
``python -m library.analysis.training`` on rendered loops in known keys
(see ``models/MODEL_CARD.md``) and stored in ``models/key.npz``; run with
numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from library.analysis.tonal import NOTE_NAMES, TONAL_HOP, TonalProfile

MODEL_PATH = Path(__file__).with_name("models") / "key.npz"
SR = 22050
SEGMENTS = 8
CHORD_SHARPNESS = 12.0
MIN_TONALNESS = 0.35
# A key written in the file name wins unless the audio makes it this many times less
# likely than its own best reading.
HINT_ODDS = 4.0
_MAJOR_TRIAD = np.array([1.0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0])
_MINOR_TRIAD = np.array([1.0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])


@dataclass
class Key:
    key: str | None
    mode: str | None
    confidence: float


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 1e-12)


@lru_cache(maxsize=1)
def _triads() -> np.ndarray:
    rows = [np.roll(_MAJOR_TRIAD, k) for k in range(12)] + [
        np.roll(_MINOR_TRIAD, k) for k in range(12)
    ]
    return _unit_rows(np.array(rows))


def _share(x: np.ndarray) -> np.ndarray:
    total = x.sum(axis=-1, keepdims=True)
    return np.divide(x, total, out=np.zeros_like(x), where=total > 1e-12)


def _segments(frames: np.ndarray, duration: float) -> np.ndarray:
    """``(SEGMENTS, 12)`` sums of ``frames`` over equal stretches of ``duration``."""
    centres = np.arange(frames.shape[0]) * TONAL_HOP / SR
    index = np.clip((centres / max(duration, 1e-6) * SEGMENTS).astype(int), 0, SEGMENTS - 1)
    out = np.zeros((SEGMENTS, 12))
    np.add.at(out, index, frames)
    return out


def summary(profile: TonalProfile, duration: float) -> np.ndarray:
    """``(12, 12)`` pitch-class evidence rows (each indexed by pitch class or chord root)
    that ``features`` rotates: see the module docstring."""
    frames = np.sqrt(profile.frames)
    bass = np.sqrt(profile.bass_frames)
    seg, seg_bass = _segments(frames, duration), _segments(bass, duration)
    chords = _unit_rows(seg) @ _triads().T  # (SEGMENTS, 24)
    chords = np.exp(CHORD_SHARPNESS * (chords - chords.max(axis=1, keepdims=True)))
    chords = _share(chords) * (seg.sum(axis=1, keepdims=True) > 1e-9)
    weights = _share(seg.sum(axis=1))
    histogram = weights @ chords
    return np.stack(
        [
            _share(frames.sum(axis=0)),
            _share(bass.sum(axis=0)),
            _share(seg[0]),
            _share(seg_bass[0]),
            _share(seg[-1]),
            _share(seg_bass[-1]),
            histogram[:12],
            histogram[12:],
            chords[0, :12],
            chords[0, 12:],
            chords[-1, :12],
            chords[-1, 12:],
        ]
    )


def features(summary_rows: np.ndarray) -> np.ndarray:
    """``(12, D)``: the summary rotated so that tonic ``t`` is pitch class 0, for each ``t``."""
    index = (np.arange(12)[:, None] + np.arange(12)[None, :]) % 12  # [t, i] -> (t + i) % 12
    return summary_rows[:, index].transpose(1, 0, 2).reshape(12, -1)


class Model:
    """Scores per mode over the rotated features: ``scores(x) -> (24,)``.

    One ReLU layer (``hidden_weights`` (D, H), ``hidden_bias`` (H,)) read by one
    output per mode (``weights`` (2, H): major, minor; ``bias`` (2,)).
    """

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.hidden_weights, self.hidden_bias = arrays["hidden_weights"], arrays["hidden_bias"]
        self.weights, self.bias = arrays["weights"], arrays["bias"]

    def rotated_scores(self, x: np.ndarray) -> np.ndarray:
        """``(..., 24)`` scores of rotated features ``x`` (``(..., 12, D)``)."""
        h = np.maximum(x @ self.hidden_weights + self.hidden_bias, 0.0)
        return np.concatenate(
            [h @ self.weights[0] + self.bias[0], h @ self.weights[1] + self.bias[1]], axis=-1
        )

    def scores(self, summary_rows: np.ndarray) -> np.ndarray:
        return self.rotated_scores(features(summary_rows))


@lru_cache(maxsize=1)
def model() -> Model:
    with np.load(MODEL_PATH) as data:
        return Model(dict(data))


def probabilities(profile: TonalProfile, duration: float) -> np.ndarray:
    """``(24,)`` probability of each key (0-11 major on C..B, 12-23 minor)."""
    scores = model().scores(summary(profile, duration))
    scores = np.exp(scores - scores.max())
    return scores / scores.sum()


def estimate_key(
    profile: TonalProfile,
    duration: float,
    *,
    hint: tuple[int, str] | None = None,
    min_tonalness: float = MIN_TONALNESS,
) -> Key:
    """Key and mode with a confidence (0..1); None where the sound is not tonal.

    ``duration`` is the length ``profile`` describes (s). ``hint`` is a key
    written in the file name (tonic pitch class, mode): it wins unless the
    audio makes it ``HINT_ODDS`` times less likely than the best reading.
    ``min_tonalness`` can be lowered when other evidence (a music loop) says
    the sound is musical.
    """
    if profile.tonalness < min_tonalness or profile.chroma.sum() <= 0:
        return Key(None, None, 0.0)
    p = probabilities(profile, duration)
    best = int(np.argmax(p))
    if hint is not None:
        hinted = hint[0] + (12 if hint[1] == "minor" else 0)
        if p[hinted] * HINT_ODDS >= p[best]:
            best = hinted
    confidence = profile.tonalness * float(p[best])
    return Key(NOTE_NAMES[best % 12], "minor" if best >= 12 else "major", round(confidence, 3))
