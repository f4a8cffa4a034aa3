"""One short-time Fourier transform, and every spectral descriptor read from it.

The analysis signal is the mono mix resampled to 22.05 kHz and scaled to a
peak of 1, so descriptors do not depend on the file's rate or level. One STFT
(2048-point Hann window, 512 hop: 93 ms windows every 23 ms) feeds the
spectral shape descriptors, the mel bands, the MFCCs, the onset envelope and
the timbre embedding. Per-frame values are summarised as amplitude-weighted
means over the frames within 60 dB of the loudest, so a one-shot's silent
tail does not dilute its character.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft

SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 64
N_MFCC = 13
FMIN = 20.0
ACTIVE_DB = 60.0
_EPS = 1e-10


@lru_cache(maxsize=4)
def _window(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10 ** (np.asarray(m) / 2595.0) - 1.0)


@lru_cache(maxsize=2)
def mel_filterbank(sr: int = SR, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular, area-normalised mel filters as a ``(bins, n_mels)`` matrix."""
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(FMIN), _hz_to_mel(sr / 2), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    bank = np.maximum(0.0, np.minimum(rising, falling))
    bank *= 2.0 / (upper - lower)
    return np.ascontiguousarray(bank.T.astype(np.float32))


@lru_cache(maxsize=2)
def _dct_matrix(n_mels: int = N_MELS, n_mfcc: int = N_MFCC) -> np.ndarray:
    """Orthonormal DCT-II basis, ``(n_mels, n_mfcc)``."""
    n = np.arange(n_mels)
    k = np.arange(n_mfcc)
    basis = np.cos(np.pi / n_mels * (n[:, None] + 0.5) * k[None, :])
    basis *= np.sqrt(2.0 / n_mels)
    basis[:, 0] /= np.sqrt(2.0)
    return basis.astype(np.float32)


def frames_of(y: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Centred frames (zero padding of ``n_fft // 2`` each side), as a strided view."""
    padded = np.pad(y, (n_fft // 2, n_fft // 2))
    if padded.size < n_fft:
        padded = np.pad(padded, (0, n_fft - padded.size))
    return np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]


def power_spectrogram(y: np.ndarray, n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """``|STFT|^2`` as ``(frames, n_fft // 2 + 1)`` float32."""
    spectrum = scipy.fft.rfft(frames_of(y, n_fft, hop) * _window(n_fft), axis=1)
    return (spectrum.real**2 + spectrum.imag**2).astype(np.float32, copy=False)


@dataclass
class Spectrum:
    """The STFT of the analysis signal and what is derived from it once."""

    power: np.ndarray  # (frames, bins)
    magnitude: np.ndarray  # (frames, bins)
    mel: np.ndarray  # (frames, N_MELS) mel power
    mel_db: np.ndarray  # (frames, N_MELS), dB, floored 80 dB under the loudest bin
    energy: np.ndarray  # (frames,)
    active: np.ndarray  # bool (frames,): within ACTIVE_DB of the loudest frame
    weights: np.ndarray  # (frames,): amplitude weights over active frames, sum 1
    fps: float
    freqs: np.ndarray

    @property
    def n_frames(self) -> int:
        return self.power.shape[0]


def compute_spectrum(y: np.ndarray) -> Spectrum:
    power = power_spectrogram(y)
    magnitude = np.sqrt(power)
    mel = power @ mel_filterbank()
    top = float(mel.max()) if mel.size else 0.0
    mel_db = 10.0 * np.log10(np.maximum(mel, max(top, _EPS) * 1e-8))
    energy = power.sum(axis=1, dtype=np.float64)
    peak = float(energy.max()) if energy.size else 0.0
    active = energy > peak * 10 ** (-ACTIVE_DB / 10) if peak > 0 else np.zeros(energy.size, bool)
    weights = np.where(active, np.sqrt(energy), 0.0)
    total = weights.sum()
    weights = weights / total if total > 0 else np.full(energy.size, 1.0 / max(1, energy.size))
    return Spectrum(
        power=power,
        magnitude=magnitude,
        mel=mel,
        mel_db=mel_db.astype(np.float32),
        energy=energy,
        active=active,
        weights=weights,
        fps=SR / HOP,
        freqs=np.fft.rfftfreq(N_FFT, 1 / SR).astype(np.float32),
    )


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.dot(values, weights))


def spectral_descriptors(spec: Spectrum, y: np.ndarray) -> dict[str, float | np.ndarray]:
    """Centroid, bandwidth, roll-off (85 % of power) in Hz, flatness (0..1), ZCR per sample,
    and the per-frame centroid (``centroid_track``)."""
    mag, power, freqs, w = spec.magnitude, spec.power, spec.freqs, spec.weights
    mag_sum = mag.sum(axis=1) + _EPS
    centroid = (mag @ freqs) / mag_sum
    spread = (mag @ (freqs**2)) / mag_sum - centroid**2
    bandwidth = np.sqrt(np.maximum(spread, 0.0))
    cumulative = np.cumsum(power, axis=1)
    rolloff_bin = (cumulative < 0.85 * cumulative[:, -1:]).sum(axis=1)
    rolloff = freqs[np.minimum(rolloff_bin, freqs.size - 1)]
    log_power = np.log(power + _EPS)
    flatness = np.exp(log_power.mean(axis=1)) / (power.mean(axis=1) + _EPS)
    return {
        "spectral_centroid": _weighted_mean(centroid, w),
        "spectral_bandwidth": _weighted_mean(bandwidth, w),
        "spectral_rolloff": _weighted_mean(rolloff, w),
        "spectral_flatness": _weighted_mean(flatness, w),
        "zero_crossing_rate": zero_crossing_rate(y, spec),
        "centroid_track": centroid,  # per-frame, used by the classifier and embedding
    }


def zero_crossing_rate(y: np.ndarray, spec: Spectrum) -> float:
    """Sign changes per sample, over the active frames (from one cumulative sum)."""
    if y.size < 2:
        return 0.0
    crossings = np.concatenate(([0], np.cumsum(np.signbit(y[1:]) != np.signbit(y[:-1]))))
    starts = np.clip(np.arange(spec.n_frames) * HOP - N_FFT // 2, 0, y.size - 1)
    ends = np.clip(starts + N_FFT, 0, y.size - 1)
    lengths = np.maximum(ends - starts, 1)
    rate = (crossings[ends] - crossings[starts]) / lengths
    return _weighted_mean(rate, spec.weights)


def noisiness(spec: Spectrum) -> float:
    """Energy-weighted flatness of the mel bands above 300 Hz: ~0 for tones, 0.1-0.5 for drums."""
    upper = spec.mel[:, 8:].astype(np.float64) + _EPS
    energy = upper.sum(axis=1)
    total = energy.sum()
    if total <= upper.size * _EPS * 2:
        return 0.0
    flatness = np.exp(np.log(upper).mean(axis=1)) / upper.mean(axis=1)
    return float(np.dot(flatness, energy / total))


def has_energy_near(spec: Spectrum, hz: float, *, below_db: float = 35.0) -> bool:
    """Whether the average spectrum has a component near ``hz`` (within 3 % or one bin)
    no more than ``below_db`` under its strongest bin."""
    average = spec.weights @ spec.power
    top = float(average.max()) if average.size else 0.0
    if top <= 0 or hz <= 0 or hz >= SR / 2:
        return False
    width = spec.freqs[1]
    lo = int(np.floor((hz * 0.97 - width) / width))
    hi = int(np.ceil((hz * 1.03 + width) / width)) + 1
    return float(average[max(lo, 0) : hi].max()) >= top * 10 ** (-below_db / 10)


def mfcc(spec: Spectrum) -> np.ndarray:
    """``(frames, N_MFCC)`` MFCCs of the dB mel spectrogram (orthonormal DCT-II)."""
    return spec.mel_db @ _dct_matrix()


def weighted_stats(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and standard deviation along axis 0."""
    mean = weights @ values
    var = weights @ (values - mean) ** 2
    return mean, np.sqrt(np.maximum(var, 0.0))
