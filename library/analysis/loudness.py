"""Sample peak, RMS and ITU-R BS.1770-4 integrated loudness, streamable.

K-weighting is the standard's two biquads (a high shelf of about +4 dB above
1.7 kHz and the RLB high-pass near 38 Hz), derived here for any sample rate
from the analogue prototypes, so the 48 kHz coefficients printed in the
standard come out exactly. Gating: 400 ms blocks with 75 % overlap, an
absolute gate at -70 LUFS and a relative gate 10 LU below the absolute-gated
loudness.

Two cases the standard leaves open, decided here:

- A file shorter than one 400 ms block is measured as a single block over
  the whole file (one-shots are often shorter than that).
- Silence, or anything whose blocks all fall under the absolute gate, has no
  loudness: ``loudness_lufs`` is None, as are ``peak_db`` and ``rms_db`` for
  digital silence. No floor value is invented.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0


@dataclass(frozen=True)
class Levels:
    peak_db: float | None
    rms_db: float | None
    loudness_lufs: float | None


def k_weighting_sos(sample_rate: float) -> np.ndarray:
    """The BS.1770 K-weighting filter as second-order sections for ``sample_rate``."""
    # Stage 1: high shelf (models the head's acoustic effect).
    gain_db, q, fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    k = math.tan(math.pi * fc / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2 * (k * k - 1) / a0,
        (1 - k / q + k * k) / a0,
    ]
    # Stage 2: the RLB high-pass.
    q, fc = 0.5003270373238773, 38.13547087602444
    k = math.tan(math.pi * fc / sample_rate)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


def channel_weights(channels: int) -> np.ndarray:
    """BS.1770 channel gains: 1.0 for front channels, 1.41 for surrounds, LFE left out."""
    if channels == 6:  # L R C LFE Ls Rs
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    if channels == 5:  # L R C Ls Rs
        return np.array([1.0, 1.0, 1.0, 1.41, 1.41])
    return np.ones(channels)


def _db(power: float, offset: float = 0.0) -> float | None:
    return offset + 10 * math.log10(power) if power > 0 else None


class LevelMeter:
    """Accumulates peak, RMS and gated loudness over blocks of ``(frames, channels)``."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.step = max(1, round(sample_rate * 0.1))  # gating blocks advance by 100 ms
        self._sos = k_weighting_sos(sample_rate)
        self._zi = np.zeros((self._sos.shape[0], 2, channels))
        self._steps: list[np.ndarray] = []
        self._partial = np.zeros(channels)
        self._partial_n = 0
        self._k_sum = np.zeros(channels)
        self._sum_sq = 0.0
        self._peak = 0.0
        self._frames = 0

    def feed(self, block: np.ndarray) -> None:
        if block.ndim == 1:
            block = block[:, None]
        n = block.shape[0]
        if n == 0:
            return
        self._peak = max(self._peak, float(np.max(np.abs(block))))
        self._sum_sq += float(np.einsum("ij,ij->", block, block, dtype=np.float64))
        self._frames += n
        # Imported here: scipy.signal takes half a second to import, and processes that only
        # read files (the import command, web) never filter one.
        from scipy.signal import sosfilt

        weighted, self._zi = sosfilt(self._sos, block, axis=0, zi=self._zi)
        squares = weighted * weighted
        self._k_sum += squares.sum(axis=0)
        start = 0
        if self._partial_n:
            take = min(self.step - self._partial_n, n)
            self._partial += squares[:take].sum(axis=0)
            self._partial_n += take
            start = take
            if self._partial_n == self.step:
                self._steps.append(self._partial[None, :].copy())
                self._partial[:] = 0
                self._partial_n = 0
        whole = (n - start) // self.step
        if whole:
            end = start + whole * self.step
            chunk = squares[start:end].reshape(whole, self.step, self.channels)
            self._steps.append(chunk.sum(axis=1))
            start = end
        if start < n:
            self._partial += squares[start:].sum(axis=0)
            self._partial_n += n - start

    def loudness(self) -> float | None:
        weights = channel_weights(self.channels)
        steps = np.concatenate(self._steps) if self._steps else np.zeros((0, self.channels))
        if steps.shape[0] >= 4:
            # Sum four consecutive 100 ms steps into each 400 ms block.
            cumulative = np.vstack([np.zeros((1, self.channels)), np.cumsum(steps, axis=0)])
            blocks = (cumulative[4:] - cumulative[:-4]) / (4 * self.step)
        elif self._frames:
            blocks = (self._k_sum / self._frames)[None, :]
        else:
            return None
        power = blocks @ weights
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10 * np.log10(power)
        gated = power[block_lufs > ABSOLUTE_GATE_LUFS]
        if gated.size == 0:
            return None
        threshold = -0.691 + 10 * math.log10(gated.mean()) + RELATIVE_GATE_LU
        kept = power[(block_lufs > ABSOLUTE_GATE_LUFS) & (block_lufs > threshold)]
        return _db(float(kept.mean()), -0.691)

    def result(self) -> Levels:
        peak_db = _db(self._peak**2)
        rms = self._sum_sq / (self._frames * self.channels) if self._frames else 0.0
        return Levels(peak_db=peak_db, rms_db=_db(rms), loudness_lufs=self.loudness())


def measure_levels(data: np.ndarray, sample_rate: int) -> Levels:
    """Peak, RMS and integrated loudness of ``(frames, channels)`` (or mono) float audio."""
    if data.ndim == 1:
        data = data[:, None]
    meter = LevelMeter(sample_rate, data.shape[1])
    meter.feed(data)
    return meter.result()
