"""A fixed-length timbre vector for "sounds like" search (cosine similarity).

64 numbers in five groups, all read from what the analyser computed anyway:

- MFCC 1-12 means (12) and standard deviations (12): spectral envelope and
  how it moves;
- the average spectrum's shape in 16 mel regions, level removed (16);
- how much each of 8 mel regions varies over time (8);
- 16 scalars: centroid, roll-off, bandwidth, flatness, noisiness, zero
  crossings, tonalness, periodicity, attack, decay, duration, onset rate,
  temporal centroid, sustain, low and high energy shares.

Each number is standardised with a fixed centre and scale (``CENTRE``,
``SCALE``: means and deviations over a reference set of synthesised drums,
basses, keys, pads, effects and loops, see ``benchmarks/bench_analysis.py``),
clipped to +-4, each group is weighted, and the whole is L2-normalised, so
the cosine of two vectors compares sounds on every aspect at once and no
single loud feature dominates. Changing any of this changes every vector:
bump ``ANALYZER_VERSION``.
"""

from __future__ import annotations

import math

import numpy as np

from library.analysis.spectral import Spectrum, weighted_stats

DIM = 64
SCALARS = 16  # the last group of the raw features
LEARNED = DIM - SCALARS  # the classifier's second hidden layer
LEARNED_SHARE = 0.8
GROUPS = (("mfcc_mean", 12, 1.0), ("mfcc_std", 12, 0.7), ("shape", 16, 0.9))
GROUPS += (("motion", 8, 0.5), ("scalars", 16, 1.0))
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
CENTRE = np.array(
    [
        51.44, 3.039, 12.86, 5.766, 5.017, -1.235, 1.697, -1.77,
        0.0847, -2.263, 0.3332, -1.083, 26, 20.35, 11.91, 10.34,
        8.917, 8.399, 6.817, 6.53, 6.001, 5.792, 5.258, 5.271,
        12.85, 11.69, 7.47, 4.104, 2.794, 1.918, 1.528, 0.628,
        0.316, -1.884, -3.106, -5.027, -6.21, -7.168, -8.629, -11.27,
        13.41, 11.36, 10.17, 9.529, 8.891, 7.948, 6.85, 6.544,
        3.156, 2.943, 3.114, -3.099, 0.1323, -1.169, 0.562, 0.7096,
        -1.825, -0.4101, 0.2507, 1.31, 0.331, 0.5063, 0.385, 0.1056,
    ]
)
SCALE = np.array(
    [
        91.18, 48.4, 21.87, 18.7, 17.4, 13.71, 11.33, 10.91,
        9.102, 8.51, 8.055, 8.383, 14.13, 12.85, 7.625, 6.446,
        6.541, 6.041, 5.235, 4.899, 4.645, 4.282, 4.041, 3.777,
        24.69, 18.22, 17.05, 14.09, 12.05, 10.14, 8.755, 7.851,
        7.387, 7.295, 9.286, 11.06, 13.32, 14.88, 16.32, 17.28,
        5.965, 6.009, 4.411, 4.51, 4.754, 4.617, 4.896, 5.182,
        0.4149, 0.5534, 0.3136, 1.54, 0.182, 0.5247, 0.4034, 0.2616,
        1.095, 0.5834, 0.4996, 0.4719, 0.1964, 0.351, 0.38, 0.2715,
    ]
)
# fmt: on


def _log(x: float | None, floor: float) -> float:
    return math.log10(max(x or 0.0, floor))


def raw_features(spec: Spectrum, mfccs: np.ndarray, scalars: dict[str, float | None]) -> np.ndarray:
    """The 64 unstandardised numbers (see the module docstring for their order)."""
    weights = spec.weights
    mfcc_mean, mfcc_std = weighted_stats(mfccs[:, 1:13], weights)
    mel_mean, mel_std = weighted_stats(spec.mel_db, weights)
    shape = mel_mean.reshape(16, -1).mean(axis=1)
    shape = shape - shape.mean()
    motion = mel_std.reshape(8, -1).mean(axis=1)
    s = scalars
    scalar_values = [
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
    vector = np.concatenate([mfcc_mean, mfcc_std, shape, motion, scalar_values])
    return np.nan_to_num(vector.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)


def _group_weights() -> np.ndarray:
    weights = []
    for _, size, weight in GROUPS:
        weights += [weight / math.sqrt(size)] * size
    return np.array(weights)


def sound_embedding(hidden: np.ndarray, raw: np.ndarray) -> list[float]:
    """The stored vector: the classifier's hidden layer (what kind of sound) beside the
    timbre scalars (how bright, how long, how sharp), so the nearest sounds are of the
    same kind first and alike within it. ``LEARNED_SHARE`` of the cosine comes from the
    hidden layer."""
    scalars = np.clip((raw - CENTRE) / SCALE, -4.0, 4.0)[-SCALARS:]
    parts = []
    for part, share in ((hidden, LEARNED_SHARE), (scalars, 1.0 - LEARNED_SHARE)):
        norm = float(np.linalg.norm(part))
        parts.append(part / norm * math.sqrt(share) if norm > 1e-9 else np.zeros(part.size))
    vector = np.concatenate(parts)
    if float(np.linalg.norm(vector)) < 1e-9:
        return silence_embedding()
    return [round(float(v), 6) for v in vector / np.linalg.norm(vector)]


def timbre_embedding(raw: np.ndarray) -> list[float]:
    """Standardise, weight and L2-normalise a raw feature vector."""
    z = np.clip((raw - CENTRE) / SCALE, -4.0, 4.0) * _group_weights()
    norm = float(np.linalg.norm(z))
    if norm < 1e-9:
        return silence_embedding()
    return [round(float(v), 6) for v in z / norm]


def silence_embedding() -> list[float]:
    """The vector given to digital silence: one fixed direction, so silent files group together."""
    return [round(1.0 / math.sqrt(DIM), 6)] * DIM
