"""Browser previews and waveform peaks, from the already decoded audio.

Preview: Ogg Vorbis (every current browser plays it; libsndfile encodes it
without extra tools, and it encodes 4-5x faster here than MP3), the file's own
channel count up to stereo (more channels are folded to stereo), at the
file's rate capped at 44.1 kHz, and at most ``PREVIEW_MAX_SECONDS`` (60 s)
with a 50 ms fade where it is cut. A preview is for auditioning; a minute is
enough to judge any sample, and it keeps previews of long recordings small.
Peaks describe the whole file when it was decoded with ``peaks=True`` (the
pipeline does: the drawn waveform spans the file's ``duration``, as a player
of the original shows it), else the decoded audio.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from library.analysis.decode import Audio

PREVIEW_MAX_SECONDS = 60.0
PREVIEW_MAX_RATE = 44100
PREVIEW_MIN_RATE = 8000
PREVIEW_QUALITY = 0.6  # libsndfile's Vorbis compression level: 0 best .. 1 smallest
_WRITE_BLOCK = 32768  # libvorbis overflows its stack on long single writes


def waveform_peaks(audio: Audio, points: int = 800) -> list[float]:
    """``points`` peak amplitudes (0..1, relative to the loudest) across the whole file.

    Uses the whole-file envelope (``audio.file_peaks``) when decoding gathered
    one, else the decoded audio itself.
    """
    points = max(1, int(points))
    if audio.file_peaks is not None:
        data = audio.file_peaks
    else:
        data = np.abs(audio.channels_data).max(axis=1)
    data = np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=0.0)
    n = data.size
    top = float(data.max()) if n else 0.0
    if top <= 0:
        return [0.0] * points
    edges = np.linspace(0, n, points + 1).astype(int)
    starts = np.minimum(edges[:-1], n - 1)
    if n >= points:
        peaks = np.maximum.reduceat(data, starts)
    else:  # fewer samples than points: repeat samples rather than leave gaps
        peaks = data[starts]
    return [round(float(v), 4) for v in np.clip(peaks / top, 0.0, 1.0)]


def _to_stereo(data: np.ndarray) -> np.ndarray:
    if data.shape[1] <= 2:
        return data
    left = data[:, 0::2].mean(axis=1)
    right = data[:, 1::2].mean(axis=1)
    return np.stack([left, right], axis=1)


def write_preview(audio: Audio, path: str | os.PathLike) -> dict:
    """Write an Ogg Vorbis preview of ``audio`` to ``path``; returns what was written."""
    path = Path(path)
    data = _to_stereo(audio.channels_data)
    rate = audio.sample_rate
    limit = int(PREVIEW_MAX_SECONDS * rate)
    cut = data.shape[0] > limit
    data = data[:limit]
    if rate > PREVIEW_MAX_RATE or rate < PREVIEW_MIN_RATE:
        target = PREVIEW_MAX_RATE if rate > PREVIEW_MAX_RATE else 22050
        data = soxr.resample(data, rate, target, quality="HQ")
        rate = target
    data = np.clip(np.asarray(data, dtype=np.float32), -1.0, 1.0)
    if cut:
        fade = min(data.shape[0], int(0.05 * rate))
        data[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = int(data.shape[1])
    with sf.SoundFile(
        str(path),
        "w",
        rate,
        channels,
        format="OGG",
        subtype="VORBIS",
        compression_level=PREVIEW_QUALITY,
    ) as out:
        for start in range(0, data.shape[0], _WRITE_BLOCK):
            out.write(data[start : start + _WRITE_BLOCK])
    return {
        "format": "ogg",
        "sample_rate": rate,
        "channels": channels,
        "seconds": round(data.shape[0] / rate, 3),
    }
