"""The trained sound classifier: what it looks at, and how it turns that into a category.

``features`` reads a fixed-length vector from the analysis signal and its
STFT (level-free: every spectrum is relative to the sound's loudest band):

- the spectrum in 32 mel bands, on average, at the attack (the first 70 ms
  from the loudest frame), in the body (70-460 ms), in the tail (after that),
  and how much each band moves (5 x 32);
- the loudness envelope: dB under the peak 23 ms to 3 s after it (8), the
  rise time, the whole and the audible duration, the share of loud frames,
  the attack read on a 1.45 ms envelope (5);
- MFCC means and deviations (26);
- rhythm: onsets per second and in all, how strongly the onset envelope
  repeats (autocorrelation peak between 0.2 and 2 s), and its periodicity at
  the bar (4);
- spectral centroid, flatness, noisiness, zero crossings, peakiness, and
  from the tonal analysis how tonal the sound is and how periodic (7).

``Model`` is a small multilayer perceptron trained by
``library.analysis.training`` (see ``models/MODEL_CARD.md``), run with numpy:
standardise, two ReLU layers, softmax. Its probabilities and its second
hidden layer (normalised, projected on its main directions) are the learned
parts of the timbre embedding. The file name is evidence too,
combined as calibrated odds (``scale_odds``): a clear name settles a sound the
audio leaves open, and cannot overturn a confident reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from library.analysis import envelope, spectral
from library.analysis.rhythm import onset_envelope, onset_frames

MODEL_PATH = Path(__file__).with_name("models") / "category.npz"
BANDS = 32
ENVELOPE_LAGS = (1, 2, 4, 8, 16, 32, 64, 128)  # frames after the peak (23 ms each)
FLOOR_DB = -80.0
CLIP = 4.0  # standardised inputs are clipped to +-CLIP deviations
LOOP_CATEGORIES = frozenset({"drum_loop", "music_loop"})


def _bands(mel_db: np.ndarray) -> np.ndarray:
    return mel_db.reshape(mel_db.shape[0], BANDS, -1).mean(axis=2)


def _mean_rows(rows: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return rows.mean(axis=0) if rows.shape[0] else fallback


def _repetition(flux: np.ndarray, fps: float) -> tuple[float, float]:
    """Highest autocorrelation of the onset envelope between 0.2 and 2 s, and at 1.5-4.5 s."""
    x = flux - flux.mean()
    n = x.size
    if n < fps * 0.5 or not np.any(x):
        return 0.0, 0.0
    spectrum = np.fft.rfft(x, n=2 * n)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=2 * n)[:n]
    acf = acf / (n - np.arange(n)) * n / acf[0]
    lo, hi = int(0.2 * fps), min(n - 1, int(2.0 * fps))
    beat = float(acf[lo:hi].max()) if hi > lo else 0.0
    lo, hi = int(1.5 * fps), min(n - 1, int(4.5 * fps))
    bar = float(acf[lo:hi].max()) if hi > lo else 0.0
    return beat, bar


@dataclass(frozen=True)
class Measured:
    """What the analyser has already read from the signal, shared with the classifier."""

    shape: dict  # spectral.spectral_descriptors
    mfcc_mean: np.ndarray
    mfcc_std: np.ndarray
    noisiness: float
    tonalness: float  # 0..1, tonal.TonalProfile
    periodicity: float  # 0..1, of the fundamental


def features(
    y: np.ndarray, spec: spectral.Spectrum, duration: float, measured: Measured
) -> np.ndarray:
    """The classifier's input for the peak-normalised analysis signal ``y``, its STFT and
    what the analyser ``measured`` from them."""
    bands = _bands(spec.mel_db)
    bands = bands - bands.max()
    frames = bands.shape[0]
    energy_db = 10 * np.log10(np.maximum(spec.energy, 1e-12))
    energy_db = np.maximum(energy_db - energy_db.max(), FLOOR_DB)
    peak = int(np.argmax(energy_db))
    active = spec.active
    average = spec.weights @ bands
    attack = _mean_rows(bands[peak : peak + 3], average)
    body = _mean_rows(bands[peak + 3 : peak + 20][active[peak + 3 : peak + 20]], attack)
    tail = _mean_rows(bands[peak + 20 :][active[peak + 20 :]], body)
    motion = np.sqrt(spec.weights @ (bands - average) ** 2)

    after = [energy_db[peak + k] if peak + k < frames else FLOOR_DB for k in ENVELOPE_LAGS]
    start = int(np.argmax(energy_db > -30.0))
    audible = float((energy_db > -40.0).sum()) / spec.fps
    loud_share = float((energy_db > -20.0).mean())
    fine = envelope.amplitude_envelope(y)
    top = float(fine.max()) or 1.0
    t10, t90 = int(np.argmax(fine >= 0.1 * top)), int(np.argmax(fine >= 0.9 * top))
    shape = [
        math.log10((peak - start + 1) / spec.fps),
        math.log10(max(duration, 0.01)),
        math.log10(max(audible, 0.01)),
        loud_share,
        math.log10(max(t90 - t10, 1) / envelope.ENVELOPE_RATE),
    ]

    regions = onset_envelope(spec, circular=False)
    flux = regions.sum(axis=1)
    onsets = onset_frames(regions, spec.fps).size
    seconds = frames / spec.fps
    beat, bar = _repetition(flux, spec.fps)
    rhythm = [onsets / max(seconds, 0.1), math.log1p(onsets), beat, bar]

    shape_d = measured.shape
    magnitude = spec.weights @ spec.magnitude[:, 5:232]  # 50 Hz - 2.5 kHz
    peakiness = float(magnitude.max() / (magnitude.mean() + 1e-9))
    timbre = [
        math.log10(max(shape_d["spectral_centroid"], 20.0)),
        math.log10(max(shape_d["spectral_flatness"], 1e-6)),
        measured.noisiness,
        math.log10(max(shape_d["zero_crossing_rate"], 1e-4)),
        math.log10(peakiness),
        measured.tonalness,
        measured.periodicity,
    ]
    vector = np.concatenate(
        [
            average,
            attack,
            body,
            tail,
            motion,
            after,
            shape,
            measured.mfcc_mean,
            measured.mfcc_std,
            rhythm,
            timbre,
        ]
    )
    return np.nan_to_num(vector.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)


@dataclass(frozen=True)
class Reading:
    """What the model says of one sound."""

    probabilities: dict[str, float]  # every category, summing to 1
    hidden: np.ndarray  # the second hidden layer, unit length
    projected: np.ndarray  # ``hidden`` on its main directions (the embedding's part)
    # The probabilities before the fitted temperature flattens them (in ``classes`` order):
    # the embedding's class part, the same in the trainer's held-out models and here.
    untempered: np.ndarray


class Model:
    """The committed classifier's weights, and its forward pass in numpy."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.classes = [str(c) for c in arrays["classes"]]
        self.mean, self.scale = arrays["mean"], arrays["scale"]
        self.layers = [(arrays[f"w{i}"], arrays[f"b{i}"]) for i in range(3)]
        self.name_odds = float(arrays["name_odds"])
        self.temperature = float(arrays["temperature"])
        self.prior = arrays["prior"]
        # The hidden layer's mean and main directions over the training set (``embedding``).
        self.embed_mean, self.embed_basis = arrays["embed_mean"], arrays["embed_basis"]

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Model:
        with np.load(path, allow_pickle=False) as data:
            return cls(dict(data))

    def read(self, x: np.ndarray) -> Reading:
        # Clipped like in training: a network extrapolates wildly beyond what it has seen.
        h = np.clip((x - self.mean) / self.scale, -CLIP, CLIP)
        hidden = h
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
                hidden = h
        p = _softmax(h / self.temperature, self.prior)
        norm = float(np.linalg.norm(hidden))
        unit = hidden / norm if norm > 0 else hidden
        return Reading(
            {c: float(v) for c, v in zip(self.classes, p, strict=True)},
            unit,
            (unit - self.embed_mean) @ self.embed_basis,
            _softmax(h, self.prior),
        )


def _softmax(logits: np.ndarray, prior: np.ndarray) -> np.ndarray:
    p = np.exp(logits - logits.max()) * prior
    return p / p.sum()


def scale_odds(probabilities: dict[str, float], named: set[str], odds: float) -> dict[str, float]:
    """Multiply the odds of the ``named`` categories by ``odds`` and renormalise."""
    if not named:
        return dict(probabilities)
    scaled = {c: p * (odds if c in named else 1.0) for c, p in probabilities.items()}
    total = sum(scaled.values())
    return {c: p / total for c, p in scaled.items()}


@lru_cache(maxsize=1)
def model() -> Model:
    """The committed model, loaded once per process."""
    return Model.load()
