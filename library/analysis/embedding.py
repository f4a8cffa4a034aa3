"""The 64-number vector for "sounds like" search (cosine similarity).

Three parts, each L2-normalised and weighted so that ``SHARES`` of the cosine
of two vectors comes from each:

- what kind of sound the classifier hears (``category.Model``): the square
  roots of its 16 probabilities from the audio alone (file names play no
  part; before the fitted temperature flattens them, so the trainer's
  held-out figures measure the same vector), so sounds of one class sit
  together first (share 0.5);
- its second hidden layer (48 numbers) projected on the 32 directions along
  which it varies most over the training set (``embed_basis`` in
  ``category.npz``): finer shades the probabilities flatten (share 0.3);
- 16 timbre scalars: centroid, roll-off, bandwidth, flatness, noisiness,
  zero crossings, tonalness, periodicity, attack, decay, duration, onset
  rate, temporal centroid, sustain, low and high energy shares: how bright,
  long and sharp it is, which orders sounds of one kind (share 0.2).

The shares were chosen leaving one training source out (``training.train``):
of the held-out one-shots' ten nearest, 83-85% share the class on the
sampled soundfonts (analyser 2.1.0's vector, the hidden layer with the
scalars: 78% on average; see ``models/MODEL_CARD.md``).

The scalars are standardised with a fixed centre and scale (``CENTRE``,
``SCALE``: means and deviations over a reference set of synthesised drums,
basses, keys, pads, effects and loops) and clipped to +-4, so no single
loud feature dominates. Changing any of this changes every vector: bump
``ANALYZER_VERSION``.
"""

from __future__ import annotations

import math

import numpy as np

DIM = 64
CLASSES = 16
PROJECTED = 32
SCALARS = 16
SHARES = (0.5, 0.3, 0.2)  # classes, projected hidden layer, timbre scalars
SCALAR_NAMES = (
    "centroid",
    "rolloff",
    "bandwidth",
    "flatness",
    "noisiness",
    "zcr",
    "tonalness",
    "periodicity",
    "attack",
    "decay",
    "duration",
    "onset_rate",
    "temporal_centroid",
    "sustain",
    "low_share",
    "high_share",
)

# fmt: off
CENTRE = np.array([
    3.156, 2.943, 3.114, -3.099, 0.1323, -1.169, 0.562, 0.7096,
    -1.825, -0.4101, 0.2507, 1.31, 0.331, 0.5063, 0.385, 0.1056,
])
SCALE = np.array([
    0.4149, 0.5534, 0.3136, 1.54, 0.182, 0.5247, 0.4034, 0.2616,
    1.095, 0.5834, 0.4996, 0.4719, 0.1964, 0.351, 0.38, 0.2715,
])
# fmt: on


def _log(x: float | None, floor: float) -> float:
    return math.log10(max(x or 0.0, floor))


def timbre_scalars(scalars: dict[str, float | None]) -> np.ndarray:
    """The 16 unstandardised timbre numbers, in ``SCALAR_NAMES`` order (logs where
    perception is logarithmic)."""
    s = scalars
    values = [
        _log(s["centroid"], 20.0),
        _log(s["rolloff"], 20.0),
        _log(s["bandwidth"], 20.0),
        _log(s["flatness"], 1e-6),
        float(s["noisiness"] or 0.0),
        _log(s["zcr"], 1e-4),
        float(s["tonalness"] or 0.0),
        float(s["periodicity"] or 0.0),
        _log(s["attack"], 1e-3),
        _log(s["decay"], 1e-2),
        math.log10(min(max(s["duration"] or 0.0, 0.02), 60.0)),
        math.log1p(s["onset_rate"] or 0.0),
        float(s["temporal_centroid"] or 0.0),
        float(s["sustain"] or 0.0),
        float(s["low_share"] or 0.0),
        float(s["high_share"] or 0.0),
    ]
    vector = np.array(values, dtype=np.float64)
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0)


def sound_embedding(
    projected: np.ndarray, probabilities: np.ndarray, scalars: np.ndarray
) -> list[float]:
    """The stored vector from the classifier's ``projected`` hidden layer, its audio-only
    ``probabilities`` (in ``CATEGORIES`` order) and ``timbre_scalars``."""
    standard = np.clip((scalars - CENTRE) / SCALE, -4.0, 4.0)
    classes = np.sqrt(np.maximum(np.asarray(probabilities, dtype=np.float64), 0.0))
    parts = []
    for part, share in zip((classes, projected, standard), SHARES, strict=True):
        norm = float(np.linalg.norm(part))
        parts.append(part / norm * math.sqrt(share) if norm > 1e-9 else np.zeros(part.size))
    vector = np.concatenate(parts)
    if float(np.linalg.norm(vector)) < 1e-9:
        return silence_embedding()
    return [round(float(v), 6) for v in vector / np.linalg.norm(vector)]


def silence_embedding() -> list[float]:
    """The vector given to digital silence: one fixed direction, so silent files group together."""
    return [round(1.0 / math.sqrt(DIM), 6)] * DIM
