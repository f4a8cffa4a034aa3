"""Cutting a loop at its onsets: pure functions, no Django.

Onsets come from the analyser's own detector (``library.analysis.rhythm``:
spectral flux over mel bands, peaks above an adaptive threshold), then each is
moved back to where its attack starts rising out of the quiet before it, so a
slice starts with its hit instead of a click. Each slice runs to the next cut;
a 2 ms fade-in and a 5 ms fade-out keep the edges silent.
"""

from __future__ import annotations

import numpy as np
import soxr

from library.analysis import rhythm, spectral

MIN_SLICE_SECONDS = 0.05
SEARCH_SECONDS = 0.05  # the STFT's frames are centred: an onset is within this of its frame


def onset_points(mono: np.ndarray, sample_rate: int) -> list[float]:
    """Where hits start, in seconds, the first at 0.0 when the loop starts with sound."""
    mono = np.asarray(mono, dtype=np.float32)
    y = soxr.resample(mono, sample_rate, spectral.SR, quality="MQ")
    spec = spectral.compute_spectrum(y)
    frames = rhythm.onset_frames(rhythm.onset_envelope(spec, circular=False), spec.fps)
    envelope = _envelope(mono, sample_rate)
    duration = mono.shape[0] / sample_rate
    points = set()
    for frame in frames:
        at = _attack_start(envelope, sample_rate, frame * spectral.HOP / spectral.SR)
        # A hit in the last few milliseconds is the loop's end, not a slice.
        if duration - at >= 2 * MIN_SLICE_SECONDS:
            points.add(round(at, 4))
    points = sorted(points)
    return _spaced([0.0, *points] if points and points[0] > MIN_SLICE_SECONDS else points)


def _envelope(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """|x| smoothed by a 1 ms moving maximum."""
    width = max(1, int(0.001 * sample_rate))
    padded = np.pad(np.abs(mono), (width // 2, width - width // 2 - 1))
    return np.lib.stride_tricks.sliding_window_view(padded, width).max(axis=1)


def _attack_start(envelope: np.ndarray, sample_rate: int, near: float) -> float:
    """The last quiet sample before the loudest point within ``SEARCH_SECONDS`` of ``near``."""
    low = max(0, int((near - SEARCH_SECONDS) * sample_rate))
    high = min(envelope.size, int((near + SEARCH_SECONDS) * sample_rate) + 1)
    if high - low < 2:
        return near
    window = envelope[low:high]
    peak = int(np.argmax(window))
    floor = float(window[: peak + 1].min())
    quiet = np.flatnonzero(window[: peak + 1] <= floor + 0.05 * (float(window[peak]) - floor))
    return (low + int(quiet[-1])) / sample_rate


def _spaced(points: list[float]) -> list[float]:
    kept: list[float] = []
    for point in points:
        if not kept or point - kept[-1] >= MIN_SLICE_SECONDS:
            kept.append(point)
    return kept


def cut(
    audio: np.ndarray, sample_rate: int, points: list[float]
) -> list[tuple[float, float, np.ndarray]]:
    """``audio`` (frames, channels) cut at ``points`` (seconds): (start, end, slice) each."""
    total = audio.shape[0]
    starts = [
        int(round(p * sample_rate)) for p in _spaced(sorted(points)) if 0 <= p * sample_rate < total
    ]
    slices = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else total
        piece = audio[start:end].copy()
        fade_in = min(piece.shape[0], int(0.002 * sample_rate))
        fade_out = min(piece.shape[0], int(0.005 * sample_rate))
        if fade_in:
            piece[:fade_in] *= np.linspace(0.0, 1.0, fade_in)[:, None]
        if fade_out:
            piece[-fade_out:] *= np.linspace(1.0, 0.0, fade_out)[:, None]
        slices.append((start / sample_rate, end / sample_rate, piece))
    return slices
