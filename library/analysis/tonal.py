"""Pitch classes and the fundamental of tonal one-shots; key names in file names.

Pitch classes need frequency resolution the main STFT's 93 ms window cannot
give (a semitone near 100 Hz is 6 Hz wide), so tonal analysis has its own
long-window transform: 8192 points at 22.05 kHz (2.7 Hz bins), hopped by 2048.
Spectral peaks between 50 Hz and 2 kHz are located to a fraction of a bin
(parabolic interpolation on log magnitude), the global tuning is estimated
from them, and each peak adds its compressed magnitude to its pitch class;
peaks below 180 Hz also feed a bass profile.

The per-frame pitch classes (and those of the bass) are what the learned
key scorer (``key``) reads.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import scipy.fft

from library.analysis.spectral import SR, _window, frames_of

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
TONAL_FFT = 8192
TONAL_HOP = 2048
FMIN, FMAX = 50.0, 2000.0
BASS_MAX_HZ = 180.0


@dataclass
class TonalProfile:
    chroma: np.ndarray  # (12,) time-summed, normalised to sum 1 (zeros when nothing tonal)
    bass: np.ndarray  # (12,) the same below BASS_MAX_HZ
    frames: np.ndarray  # (frames, 12) per-frame pitch-class energy
    bass_frames: np.ndarray  # (frames, 12) the same below BASS_MAX_HZ
    tonalness: float  # 0..1: share of spectral energy in tuned, stable peaks
    tuning: float  # semitones, -0.5..0.5


def _tuning(deviation: np.ndarray, magnitude: np.ndarray) -> float:
    """The most common deviation from equal temperament (semitones, -0.5..0.5).

    A histogram mode rather than a mean, so stretched upper partials (pianos)
    or a few stray peaks do not drag the estimate.
    """
    bins = 50
    index = np.floor((deviation + 0.5) * bins).astype(int) % bins
    histogram = np.bincount(index, weights=magnitude, minlength=bins)
    smooth = histogram + 0.5 * (np.roll(histogram, 1) + np.roll(histogram, -1))
    top = int(np.argmax(smooth))
    # Refine with the weighted circular mean of the neighbouring bins.
    near = np.abs(((index - top + bins // 2) % bins) - bins // 2) <= 1
    if not near.any():
        return (top + 0.5) / bins - 0.5
    angle = np.angle(np.sum(magnitude[near] * np.exp(2j * np.pi * deviation[near])))
    return float(angle / (2 * np.pi))


def tonal_profile(y: np.ndarray) -> TonalProfile:
    """Pitch-class profiles of the analysis signal ``y`` (22.05 kHz mono)."""
    frames = frames_of(y, TONAL_FFT, TONAL_HOP)
    spectrum = scipy.fft.rfft(frames * _window(TONAL_FFT), axis=1)
    lo = int(FMIN * TONAL_FFT / SR)
    hi = int(FMAX * TONAL_FFT / SR) + 2
    mag = np.abs(spectrum[:, lo - 1 : hi + 1]).astype(np.float64)
    total_energy = float((mag[:, 1:-1] ** 2).sum())
    nothing = np.zeros((mag.shape[0], 12))
    empty = TonalProfile(np.zeros(12), np.zeros(12), nothing, nothing, 0.0, 0.0)
    if total_energy <= 1e-12:
        return empty
    centre = mag[:, 1:-1]
    floor = mag.max() * 1e-3
    is_peak = (centre > mag[:, :-2]) & (centre >= mag[:, 2:]) & (centre > floor)
    frame_index, bin_index = np.nonzero(is_peak)
    if frame_index.size == 0:
        return empty
    left = np.log(mag[frame_index, bin_index] + 1e-12)
    mid = np.log(mag[frame_index, bin_index + 1] + 1e-12)
    right = np.log(mag[frame_index, bin_index + 2] + 1e-12)
    denominator = left - 2 * mid + right
    offset = np.where(np.abs(denominator) > 1e-12, 0.5 * (left - right) / denominator, 0.0)
    offset = np.clip(offset, -0.5, 0.5)
    freq = (lo + bin_index + offset) * SR / TONAL_FFT
    peak_mag = np.exp(mid - 0.25 * (left - right) * offset)
    valid = (freq >= FMIN) & (freq <= FMAX)
    frame_index, freq, peak_mag = frame_index[valid], freq[valid], peak_mag[valid]
    if freq.size == 0:
        return empty
    pitch = 69.0 + 12.0 * np.log2(freq / 440.0)
    deviation = pitch - np.round(pitch)
    weight = peak_mag**2
    tuning = _tuning(deviation, peak_mag)
    pitch = pitch - tuning
    deviation = pitch - np.round(pitch)
    in_tune = np.cos(np.pi * deviation) ** 2  # 1 on a semitone, 0 half-way between
    # Noise puts peaks anywhere (under a third fall within 0.15 semitone of a
    # note); tones put nearly all their energy there.
    in_tune_share = float(np.sum(weight * (np.abs(deviation) < 0.15)) / np.sum(weight))
    tonalness = max(0.0, (in_tune_share - 0.3) / 0.7)
    pitch_class = np.mod(np.round(pitch).astype(int), 12)
    contribution = np.sqrt(peak_mag) * in_tune
    n_frames = mag.shape[0]
    per_frame = np.zeros((n_frames, 12))
    np.add.at(per_frame, (frame_index, pitch_class), contribution)
    low = freq < BASS_MAX_HZ
    bass_frames = np.zeros((n_frames, 12))
    np.add.at(bass_frames, (frame_index[low], pitch_class[low]), contribution[low])
    bass = bass_frames.sum(axis=0)
    chroma = per_frame.sum(axis=0)
    return TonalProfile(
        chroma=chroma / max(chroma.sum(), 1e-12),
        bass=bass / max(bass.sum(), 1e-12),
        frames=per_frame,
        bass_frames=bass_frames,
        tonalness=min(1.0, tonalness),
        tuning=tuning,
    )


# -- fundamental pitch -------------------------------------------------------------

PITCH_FMIN, PITCH_FMAX = 30.0, 2000.0
YIN_THRESHOLD = 0.15


def estimate_pitch(y: np.ndarray, start: int = 0) -> tuple[float | None, float]:
    """Fundamental (Hz) by YIN on ~190 ms from ``start``, and its periodicity (0..1).

    Returns ``(None, periodicity)`` where the signal is not periodic enough.
    """
    window = 4096
    max_lag = int(SR / PITCH_FMIN)
    segment = y[start : start + window + max_lag]
    if segment.size < 2 * int(SR / PITCH_FMAX) + 64:
        return None, 0.0
    w = min(window, segment.size - min(max_lag, segment.size // 2))
    lags = min(max_lag, segment.size - w)
    if w < 256 or lags < 32:
        return None, 0.0
    x = segment.astype(np.float64)
    energy = np.concatenate(([0.0], np.cumsum(x * x)))
    size = 1 << int(math.ceil(math.log2(w + lags)))
    fx = scipy.fft.rfft(x[: w + lags], size)
    fw = scipy.fft.rfft(x[:w], size)
    cross = scipy.fft.irfft(fx * np.conj(fw), size)[:lags]
    tau = np.arange(lags)
    diff = energy[w] + (energy[tau + w] - energy[tau]) - 2 * cross
    diff[0] = 0.0
    cumulative = np.cumsum(diff[1:]) / np.arange(1, lags)
    cmnd = np.ones(lags)
    cmnd[1:] = diff[1:] / np.maximum(cumulative, 1e-12)
    min_lag = max(2, int(SR / PITCH_FMAX))
    below = np.flatnonzero(cmnd[min_lag:] < YIN_THRESHOLD)
    if below.size:
        lag = below[0] + min_lag
        while lag + 1 < lags and cmnd[lag + 1] < cmnd[lag]:
            lag += 1
    else:
        lag = int(np.argmin(cmnd[min_lag:])) + min_lag
    periodicity = float(max(0.0, 1.0 - cmnd[lag]))
    if cmnd[lag] > 0.35 or lag <= 0 or lag >= lags - 1:
        return None, periodicity
    a, b, c = cmnd[lag - 1], cmnd[lag], cmnd[lag + 1]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if abs(a - 2 * b + c) > 1e-12 else 0.0
    return SR / (lag + float(np.clip(shift, -0.5, 0.5))), periodicity


def note_name(hz: float) -> str:
    """Nearest equal-tempered note, e.g. 440.0 -> "A4"."""
    midi = int(round(69 + 12 * math.log2(hz / 440.0)))
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


_KEY_IN_NAME = re.compile(
    r"(?:^|[^a-z0-9#])([a-g])([#b]|sharp|flat)?[ _-]?(maj(?:or)?|min(?:or)?|m)?(?=$|[^a-z0-9#])",
    re.I,
)


def key_from_name(name: str) -> tuple[int, str] | None:
    """A key written in a file name: "Am", "C#min", "F_major", "Bb", "key of G"...

    Single letters count only with a mode or accidental, or after "key":
    "Kick_A" alone is not taken as a key.
    """
    stem = re.sub(r"\.[a-z0-9]{2,4}$", "", name, flags=re.I)
    for match in _KEY_IN_NAME.finditer(stem):
        letter, accidental, mode = match.group(1), match.group(2), match.group(3)
        before = stem[: match.start(1)].lower()
        if not (mode or accidental or before.rstrip(" _-").endswith("key")):
            continue
        if mode is None and letter.islower():
            continue
        if mode and mode.lower() == "m" and letter.islower() and not accidental:
            continue
        pc = NOTE_NAMES.index(letter.upper())
        if accidental:
            acc = accidental.lower()
            pc += 1 if acc in ("#", "sharp") else -1
        minor = bool(mode) and mode.lower().startswith("m") and not mode.lower().startswith("maj")
        return pc % 12, "minor" if minor else "major"
    return None
