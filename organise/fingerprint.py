"""A compact audio fingerprint for near-duplicates: pure functions, no Django imports.

A sound and its copies (re-encoded, trimmed or padded, louder or quieter,
resampled, mono or stereo) share the shape of their spectrogram over time;
another recording of the same drum does not. The fingerprint is that shape
at low resolution: the first 4 s at 22.05 kHz, 32 log-spaced bands from 50 Hz
to 10 kHz (above which lossy codecs and low sample rates disagree), one frame
per 5.8 ms, in dB below the loudest cell, silence trimmed at both ends, kept
as bytes (0.25 dB steps; under 22 KB, a one-shot a few KB). ``sketch`` is a
short vector of the same sound for finding candidates by cosine distance in
the database; ``distance`` compares two fingerprints exactly, at the best
alignments of one against the other, after removing the level difference.

Chromaprint (``fpcalc``) was the other choice; it listens to chroma (pitch
classes) over seconds, which tells nothing apart in a one-shot kick.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.fft
import soxr

RATE = 22050
N_FFT = 1024
HOP = 128
BANDS = 32
LOW_HZ, HIGH_HZ = 50.0, 10000.0
MAX_SECONDS = 4.0
FLOOR_DB = 60.0  # cells further below the loudest are silence
STEP_DB = 0.25  # quantisation of the stored frames
SILENCE_DB = 45.0  # frames this far below the loudest frame are trimmed at the ends
MAX_SHIFT = 24  # frames (about 0.14 s) of misalignment searched for
SKETCH_DIM = 48
# Distance (mean absolute dB after removing the level difference) under which two
# sounds are copies of one another; measured by benchmarks/bench_duplicates.py.
DUPLICATE_DISTANCE = 1.5
MIN_COVER = 0.5  # share of each sound's loud frames the overlap must hold
LOUD_DB = 20.0  # loud frames: within this of the loudest frame
QUANTILE = 0.7  # of the per-frame differences: a few spoilt frames do not count
SHIFTS_TRIED = 2  # best envelope alignments compared in full (with their neighbours)


@dataclass(frozen=True)
class Fingerprint:
    frames: np.ndarray  # (n, BANDS) float32, dB below the loudest cell, >= -FLOOR_DB

    def to_bytes(self) -> bytes:
        steps = np.clip(np.round(-self.frames / STEP_DB), 0, 255).astype(np.uint8)
        return steps.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        steps = np.frombuffer(data, dtype=np.uint8).reshape(-1, BANDS)
        return cls(-(steps.astype(np.float32) * STEP_DB))

    @property
    def seconds(self) -> float:
        return self.frames.shape[0] * HOP / RATE

    # Worked out once per fingerprint, not once per comparison: an import compares
    # each new sound with a dozen others, and each of those with the files after it.
    @cached_property
    def envelope(self) -> np.ndarray:
        """Each frame's loudest band, in dB above the floor (>= 0)."""
        return self.frames.max(axis=1) + FLOOR_DB

    @cached_property
    def loud_before(self) -> np.ndarray:
        """How many loud frames (within LOUD_DB of the loudest) precede each frame, and all."""
        level = 10.0 * np.log10((10.0 ** (self.frames / 10.0)).sum(axis=1))
        return np.concatenate([[0], np.cumsum(level > level.max() - LOUD_DB)])


def _band_matrix() -> np.ndarray:
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    edges = np.geomspace(LOW_HZ, HIGH_HZ, BANDS + 2)
    matrix = np.zeros((BANDS, freqs.size), dtype=np.float32)
    for band in range(BANDS):
        low, mid, high = edges[band], edges[band + 1], edges[band + 2]
        rising = (freqs - low) / (mid - low)
        falling = (high - freqs) / (high - mid)
        matrix[band] = np.clip(np.minimum(rising, falling), 0.0, None)
        if not matrix[band].any():  # narrower than one bin: take the nearest bin
            matrix[band, np.argmin(np.abs(freqs - mid))] = 1.0
    return matrix


_BANDS = _band_matrix()
_WINDOW = np.hanning(N_FFT).astype(np.float32)


def fingerprint(samples: np.ndarray, sample_rate: int) -> Fingerprint:
    """The fingerprint of mono ``samples`` (float) at ``sample_rate``."""
    x = np.asarray(samples, dtype=np.float32)
    if sample_rate != RATE:
        x = soxr.resample(x[: int(sample_rate * (MAX_SECONDS + 2))], sample_rate, RATE)
    # Silence around the sound, so that the frames leading into its onset are
    # the same whether the file starts there or after a pause.
    x = np.pad(x[: int(RATE * (MAX_SECONDS + 2))], N_FFT)
    count = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:count]
    power = np.abs(scipy.fft.rfft(frames * _WINDOW, axis=1)) ** 2
    bands = power @ _BANDS.T
    db = 10.0 * np.log10(bands + 1e-12)
    loudest = float(db.max())
    if loudest < -100.0:  # digital silence
        return Fingerprint(np.full((1, BANDS), -FLOOR_DB, dtype=np.float32))
    frame_db = 10.0 * np.log10(bands.sum(axis=1) + 1e-12)
    active = np.flatnonzero(frame_db > frame_db.max() - SILENCE_DB)
    db = db[active[0] : active[-1] + 1][: int(MAX_SECONDS * RATE / HOP)]
    return Fingerprint(np.maximum(db - loudest, -FLOOR_DB).astype(np.float32))


def sketch(print_: Fingerprint) -> list[float]:
    """A unit vector for candidate search: the spectrum of the start and of the whole sound.

    Level-free (each part is centred in dB), so a louder copy points the same way.
    """
    frames = print_.frames
    head = frames[: max(1, int(0.15 * RATE / HOP))].mean(axis=0)
    whole = frames.mean(axis=0)
    parts = []
    for part in (head, whole):
        part = part - part.mean()
        parts.append(part[::2] + part[1::2])  # 16 wider bands
    # The level over the first 0.37 s, fixed times from the onset: a cut tail changes nothing.
    level = frames.max(axis=1)
    times = np.arange(16) * 4
    envelope = np.where(times < len(level), level[np.minimum(times, len(level) - 1)], -FLOOR_DB)
    vector = np.concatenate([*parts, envelope / 3.0])
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector).astype(np.float32).tolist()


def distance(a: Fingerprint, b: Fingerprint, *, max_shift: int = MAX_SHIFT) -> float:
    """How far apart two sounds are, in dB; ``inf`` when they do not overlap enough.

    The shifts of ``b`` against ``a`` (within ``max_shift`` frames) where their
    envelopes line up best are tried.
    Over the overlap, the level difference (the median difference of the
    cells that sound in either) is removed, so a quieter copy is as close as
    a re-encoded one; then each frame's mean absolute difference is taken,
    and the score is the ``QUANTILE`` of those: a cut attack or a codec's
    smeared onset spoils a few frames, a different take differs throughout.
    The overlap must hold most of each sound's loud frames (a trimmed copy
    keeps them; a short hit does not match the start of a long one).
    """
    fa, fb = a.frames, b.frames
    shifts = _likely_shifts(a.envelope, b.envelope, max_shift)
    # shift > 0: b starts ``shift`` frames into a.
    start_a, start_b = np.maximum(shifts, 0), np.maximum(-shifts, 0)
    length = np.minimum(len(fa) - start_a, len(fb) - start_b)
    overlap = length > 0
    start_a, start_b, length = start_a[overlap], start_b[overlap], length[overlap]
    # Each shift's share of each sound's loud frames, from running counts.
    loud_a, loud_b = a.loud_before, b.loud_before
    cover_a = (loud_a[start_a + length] - loud_a[start_a]) / max(loud_a[-1], 1)
    cover_b = (loud_b[start_b + length] - loud_b[start_b]) / max(loud_b[-1], 1)
    covered = np.minimum(cover_a, cover_b) >= MIN_COVER
    if not covered.any():
        return float("inf")
    xa = _windows(fa, start_a[covered], length[covered])
    xb = _windows(fb, start_b[covered], length[covered])
    # One row per shift from here on; frames past a row's overlap are silence in
    # both, so they never sound and count nowhere.
    sounding = np.maximum(xa, xb) > -FLOOR_DB + 6.0
    cells = sounding.sum(axis=(1, 2))
    offset = _masked_quantile(np.where(sounding, xa - xb, np.nan).reshape(len(xa), -1), 0.5)
    # A cell floored in one sound is compared only down to the floor.
    floored = np.maximum(xb + offset[:, None, None].astype(np.float32), -FLOOR_DB)
    diff = np.abs(xa - floored) * sounding
    counted = sounding.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):  # silent frames: NaN, left out
        per_frame = diff.sum(axis=2) / counted
    scores = _masked_quantile(per_frame, QUANTILE)[cells >= BANDS]
    return float(scores.min()) if scores.size else float("inf")


def _windows(frames: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``frames[start : start + length]`` for each pair, padded with silence to one length."""
    longest = int(lengths.max())
    padded = np.concatenate([frames, np.full((longest, BANDS), -FLOOR_DB, np.float32)])
    rows = starts[:, None] + np.arange(longest)
    rows = np.where(np.arange(longest) < lengths[:, None], rows, len(frames))  # past: silence
    return padded[rows]


def _masked_quantile(values: np.ndarray, q: float) -> np.ndarray:
    """Each row's ``q`` quantile of its values that are not NaN (``np.quantile``'s linear rule).

    One sort for all rows (NaN sorts last) instead of one ``np.quantile`` call a row.
    """
    ordered = np.sort(values, axis=1)
    count = (~np.isnan(values)).sum(axis=1)
    position = q * np.maximum(count - 1, 0)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    rows = np.arange(len(values))
    below, above = ordered[rows, low].astype(np.float64), ordered[rows, high].astype(np.float64)
    return below + (position - low) * (above - below)


def _likely_shifts(ea: np.ndarray, eb: np.ndarray, max_shift: int) -> np.ndarray:
    """The shifts where two envelopes line up best, and their neighbours, in ascending order.

    Every shift is scored at once: the sum of absolute differences between
    ``ea`` and ``eb`` moved by it. Frames outside the other sound count as
    silence, so a shift that lines up two quiet tails instead of the sounds
    scores badly.
    """
    size = max(len(ea), len(eb)) + 2 * max_shift
    base = np.zeros(size, dtype=np.float32)
    base[max_shift : max_shift + len(ea)] = ea
    # Window k of ``moved`` is ``eb`` starting at ``max_shift + shift`` with shift = max_shift - k.
    moved = np.zeros(size + 2 * max_shift, dtype=np.float32)
    moved[2 * max_shift : 2 * max_shift + len(eb)] = eb
    windows = np.lib.stride_tricks.sliding_window_view(moved, size)[::-1]  # shift ascending
    scores = np.abs(base - windows).sum(axis=1)
    best = np.argsort(scores, kind="stable")[:SHIFTS_TRIED] - max_shift
    near = (best[:, None] + np.arange(-1, 2)).ravel()
    return np.unique(near[np.abs(near) <= max_shift])
