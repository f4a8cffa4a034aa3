"""Amplitude envelope: attack, decay, and the shape numbers the embedding uses.

The envelope is the peak absolute sample per 1.45 ms block (32 samples at
22.05 kHz). Attack and decay describe the first event: attack is the time
from 10 % to 90 % of its peak (its peak being the loudest point in the
second after the envelope first reaches a tenth of the file's maximum);
decay is the time from reaching 90 % until the envelope, smoothed over 10 ms,
first falls 20 dB below it (or the rest of the file, for a sound that never
does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from library.analysis.spectral import SR

BLOCK = 32
ENVELOPE_RATE = SR / BLOCK


@dataclass
class Envelope:
    values: np.ndarray  # peak amplitude per block
    attack_time: float | None
    decay_time: float | None
    peak_index: int  # block index of the first event's peak
    temporal_centroid: float  # 0..1, energy centre of mass as a fraction of the length
    sustain: float  # 0..1, how much of the energy comes after the first 200 ms


def amplitude_envelope(y: np.ndarray) -> np.ndarray:
    n = y.size // BLOCK
    if n == 0:
        return np.abs(y[:1]) if y.size else np.zeros(1, dtype=np.float32)
    return np.abs(y[: n * BLOCK]).reshape(n, BLOCK).max(axis=1)


def describe_envelope(y: np.ndarray) -> Envelope:
    values = amplitude_envelope(y)
    top = float(values.max()) if values.size else 0.0
    if top <= 0:
        return Envelope(values, None, None, 0, 0.0, 0.0)
    start = int(np.argmax(values >= 0.1 * top))
    window = values[start : start + int(ENVELOPE_RATE)]
    peak = float(window.max())
    rising = values[: start + int(np.argmax(window)) + 1]
    t10 = int(np.argmax(rising >= 0.1 * peak))
    t90 = int(np.argmax(rising >= 0.9 * peak))
    attack = max(t90 - t10, 0) / ENVELOPE_RATE
    # The event "peaks" where it first reaches 90 %: for a steady sound the
    # loudest sample could be anywhere, and decay and sustain count from here.
    peak_index = t90
    width = max(1, int(0.01 * ENVELOPE_RATE))
    tail = values[peak_index:]
    if tail.size > width:
        tail = np.convolve(tail, np.ones(width) / width, mode="valid")
    below = np.flatnonzero(tail < 0.1 * peak)
    decay_blocks = below[0] if below.size else tail.size
    energy = values.astype(np.float64) ** 2
    total = energy.sum()
    positions = np.arange(values.size)
    centroid = float(energy @ positions / total / max(values.size - 1, 1)) if total > 0 else 0.0
    early = peak_index + int(0.2 * ENVELOPE_RATE)
    sustain = float(energy[early:].sum() / total) if total > 0 else 0.0
    return Envelope(
        values=values,
        attack_time=attack,
        decay_time=decay_blocks / ENVELOPE_RATE,
        peak_index=peak_index,
        temporal_centroid=centroid,
        sustain=sustain,
    )
