"""Random processing that makes a clean render sound like a sample from someone's pack.

Each transformation is applied with its own probability: speed and pitch,
filters and tilt, saturation and compression, rooms, start trims and fades,
lower sample rates and bit depths, Ogg/MP3 round trips, noise floors. Layering
two sounds of one class is done by the dataset, which knows the classes.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
import soxr
from scipy.signal import butter, fftconvolve, sosfilt

from library.analysis.training.render import SR


def _filter(x: np.ndarray, kind: str, cutoff: float) -> np.ndarray:
    sos = butter(2, min(cutoff, SR * 0.45), btype=kind, fs=SR, output="sos")
    return sosfilt(sos, x)


def _room(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    seconds = rng.uniform(0.15, 1.2)
    t = np.arange(int(seconds * SR)) / SR
    ir = rng.standard_normal(t.size) * np.exp(-6.9 * t / seconds)
    ir = _filter(ir, "low", rng.uniform(2000, 9000))
    wet = fftconvolve(x, ir)[: x.size + t.size // 2]
    wet *= np.abs(x).max() / (np.abs(wet).max() + 1e-9)
    dry = np.pad(x, (0, wet.size - x.size))
    return dry + rng.uniform(0.1, 0.45) * wet


def _compress(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    level = np.sqrt(np.convolve(x**2, np.ones(256) / 256, mode="same")) + 1e-6
    threshold = rng.uniform(0.05, 0.3)
    ratio = rng.uniform(2, 8)
    gain = np.where(level > threshold, (level / threshold) ** (1 / ratio - 1), 1.0)
    return x * gain


def _codec(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    fmt, subtype = ("OGG", "VORBIS") if rng.random() < 0.5 else ("MP3", "MPEG_LAYER_III")
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", SR, 1, subtype=subtype, format=fmt) as f:
        for i in range(0, x.size, 32768):
            f.write(x[i : i + 32768].astype(np.float32))
    buffer.seek(0)
    decoded, _ = sf.read(buffer, dtype="float32")
    return (
        decoded[: x.size] if decoded.size >= x.size else np.pad(decoded, (0, x.size - decoded.size))
    )


def augment(x: np.ndarray, rng: np.random.Generator, *, loop: bool) -> np.ndarray:
    """A processed copy of ``x`` (mono at ``SR``); loops keep their length and start."""
    y = x.astype(np.float64)
    if not loop and rng.random() < 0.4:  # repitched in a sampler
        ratio = 2 ** (rng.uniform(-5, 5) / 12)
        y = soxr.resample(y, SR * ratio, SR)
    if rng.random() < 0.3:
        y = _filter(y, "high", rng.uniform(30, 400))
    if rng.random() < 0.3:
        y = _filter(y, "low", rng.uniform(2500, 11000))
    if rng.random() < 0.3:  # tilt: brighter or darker
        y = y + rng.uniform(-0.7, 1.5) * np.diff(y, prepend=y[:1]) * 4
    if rng.random() < 0.3:
        drive = rng.uniform(1.5, 8)
        y = np.tanh(drive * y / (np.abs(y).max() + 1e-9)) / np.tanh(drive)
    if rng.random() < 0.2:
        y = _compress(y, rng)
    if rng.random() < 0.25:
        y = _room(y, rng)
        if loop:
            y = y[: x.size]
    if not loop and rng.random() < 0.2:  # start trimmed into the attack
        y = y[int(rng.uniform(0, 0.012) * SR) :]
    if not loop and rng.random() < 0.25:  # cut short with a fade
        keep = int(y.size * rng.uniform(0.3, 1.0))
        fade = max(1, int(keep * rng.uniform(0.05, 0.5)))
        y = y[:keep].copy()
        y[-fade:] *= np.linspace(1, 0, fade)
    if rng.random() < 0.15:  # recorded at a low rate
        low = rng.uniform(8000, 16000)
        y = soxr.resample(soxr.resample(y, SR, low), low, SR)
    y = y / (np.abs(y).max() + 1e-9)
    if rng.random() < 0.25:
        noise = rng.standard_normal(y.size) * 10 ** (rng.uniform(-75, -40) / 20)
        y = y + (_filter(noise, "low", 4000) if rng.random() < 0.5 else noise)
    if rng.random() < 0.1:
        steps = 2 ** int(rng.integers(7, 12))
        y = np.round(y * steps) / steps
    if rng.random() < 0.12 and y.size > SR * 0.05:
        y = _codec(y, rng)
    return (y * rng.uniform(0.3, 1.0)).astype(np.float32)
