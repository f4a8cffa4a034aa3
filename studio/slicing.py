"""Cutting a loop at its onsets: pure functions, no Django.

Onsets come from librosa's spectral-flux detector, moved back to the quiet
just before each hit (``backtrack``), so a slice starts with its attack
instead of a click. Each slice runs to the next cut; a 2 ms fade-in and a
5 ms fade-out keep the edges silent.
"""

from __future__ import annotations

import librosa
import numpy as np

MIN_SLICE_SECONDS = 0.05


def onset_points(mono: np.ndarray, sample_rate: int) -> list[float]:
    """Where hits start, in seconds, the first at 0.0 when the loop starts with sound."""
    frames = librosa.onset.onset_detect(
        y=mono.astype(np.float32), sr=sample_rate, units="samples", backtrack=True
    )
    duration = mono.shape[0] / sample_rate
    # The detector reports the loop's very end as an onset (padding): no slice that short.
    points = sorted(
        {
            round(int(f) / sample_rate, 4)
            for f in frames
            if duration - int(f) / sample_rate >= 2 * MIN_SLICE_SECONDS
        }
    )
    return _spaced([0.0, *points] if points and points[0] > MIN_SLICE_SECONDS else points)


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
