"""Loop -> MIDI: notes of a monophonic bass or lead loop, as a Standard MIDI File.

The note model is Spotify's Basic Pitch (ICASSP 2022, Apache-2.0): its ONNX
export ships inside the ``basic-pitch`` wheel, which is installed without its
dependencies (it pins an old TensorFlow) and never imported; onnxruntime runs
the file. The windowing and the note decoding below are ports of Basic Pitch's
``inference.run_inference`` and ``note_creation.output_to_notes_polyphonic``
(Copyright 2022 Spotify AB, Apache License 2.0), kept to numpy and scipy, plus
a monophonic clean-up of our own. The thresholds were tuned on lines rendered
from FluidR3 and MuseScore soundfonts (``scripts/tune_midi.py``); the tests
check them on lines rendered from TimGM6mb. No Django imports.
"""

from __future__ import annotations

import importlib.util
import io
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mido
import numpy as np
import scipy.signal
import soxr

from library.analysis import decode_audio

SAMPLE_RATE = 22050  # the model's input rate
FFT_HOP = 256
FRAMES_PER_SECOND = SAMPLE_RATE // FFT_HOP  # 86 model frames a second
WINDOW_SAMPLES = SAMPLE_RATE * 2 - FFT_HOP  # one model call: 43,844 samples, 172 frames
WINDOW_FRAMES = FRAMES_PER_SECOND * 2
OVERLAP_FRAMES = 30  # windows overlap; half of it is dropped on each side
OVERLAP_SAMPLES = OVERLAP_FRAMES * FFT_HOP
HOP_SAMPLES = WINDOW_SAMPLES - OVERLAP_SAMPLES
LOWEST_MIDI = 21  # the model's 88 bins are the piano's keys, A0 up
MAX_BIN = 87
ENERGY_TOLERANCE = 11  # frames below the frame threshold that still end a note

MODEL_VERSION = "basic-pitch-0.4.0/icassp_2022"
TICKS_PER_BEAT = 480


@dataclass(frozen=True)
class Settings:
    """Decoding thresholds (Basic Pitch's defaults: 0.5, 0.3 and 127.7 ms)."""

    onset_threshold: float = 0.5
    frame_threshold: float = 0.3
    min_note_seconds: float = 0.1277
    melodia: bool = True
    # The line decoder (decode_line): onset peaks this high re-strike a held pitch, and a
    # run's start moves to its onset peak when one is at most this many frames in.
    line: bool = False
    split_threshold: float = 0.5
    snap_frames: int = 0
    # A run of the strongest pitch fainter than frame_threshold (down to this) is a note only
    # when an onset peak starts it: low bass notes are often heard faintly but clearly struck.
    weak_threshold: float | None = None


# Ranked first by F1 on the tuning lines of each kind (scripts/tune_midi.py: 24 bass and
# 20 lead lines from FluidR3, MuseScore, sf_GMbank and OPL-3), where the line decoder beat
# Basic Pitch's own (bass F1 0.929 against 0.915, lead 0.971 against 0.937).
SETTINGS = {
    "bass": Settings(
        frame_threshold=0.4, min_note_seconds=0.058, line=True, split_threshold=0.7, snap_frames=6
    ),
    "lead": Settings(
        frame_threshold=0.3,
        min_note_seconds=0.07,
        line=True,
        split_threshold=0.6,
        snap_frames=10,
        weak_threshold=0.15,
    ),
}
DEFAULT = SETTINGS["lead"]


@dataclass(frozen=True)
class Note:
    start: float  # seconds
    end: float
    pitch: int  # MIDI note number
    velocity: int


class ModelMissing(RuntimeError):
    """basic-pitch (the model file) or onnxruntime is not installed."""


def model_path() -> Path:
    """The ONNX file inside the installed basic-pitch wheel (the package is not imported:
    its ``__init__`` looks for TensorFlow, CoreML and TFLite and logs warnings)."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing("basic-pitch is not installed (pip install --no-deps basic-pitch)")
    path = Path(spec.submodule_search_locations[0], "saved_models", "icassp_2022", "nmp.onnx")
    if not path.is_file():
        raise ModelMissing(f"basic-pitch's ONNX model is missing: {path}")
    return path


@cache
def _session():
    """One onnxruntime session per process (the model loads in ~50 ms; a worker keeps it)."""
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise ModelMissing("onnxruntime is not installed") from exc
    options = onnxruntime.SessionOptions()
    # Two cores serve web, worker and database alike: one thread is enough for 2 s windows.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )


def activations(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's (frames, 88) note and onset activations for mono ``audio`` at 22,050 Hz."""
    length = audio.shape[0]
    padded = np.concatenate([np.zeros(OVERLAP_SAMPLES // 2, np.float32), audio.astype(np.float32)])
    starts = range(0, padded.shape[0], HOP_SAMPLES)
    windows = np.zeros((len(starts), WINDOW_SAMPLES, 1), np.float32)
    for row, start in enumerate(starts):
        piece = padded[start : start + WINDOW_SAMPLES]
        windows[row, : piece.shape[0], 0] = piece
    session = _session()
    note_parts, onset_parts = [], []
    for first in range(0, windows.shape[0], 8):  # bounded memory for long files
        note, onset = session.run(
            ["StatefulPartitionedCall:1", "StatefulPartitionedCall:2"],
            {"serving_default_input_2:0": windows[first : first + 8]},
        )
        note_parts.append(note)
        onset_parts.append(onset)
    keep = int(np.floor(length * FRAMES_PER_SECOND / SAMPLE_RATE))
    half = OVERLAP_FRAMES // 2

    def unwrap(parts: list[np.ndarray]) -> np.ndarray:
        out = np.concatenate(parts)[:, half:-half, :]
        return out.reshape(-1, out.shape[2])[:keep]

    return unwrap(note_parts), unwrap(onset_parts)


def frame_times(n_frames: int) -> np.ndarray:
    """Seconds of each unwrapped frame (Basic Pitch's ``model_frames_to_time``, magic included)."""
    frames = np.arange(n_frames)
    offset = (FFT_HOP / SAMPLE_RATE) * (WINDOW_FRAMES - WINDOW_SAMPLES / FFT_HOP) + 0.0018
    return frames * FFT_HOP / SAMPLE_RATE - offset * np.floor(frames / WINDOW_FRAMES)


def _inferred_onsets(onsets: np.ndarray, frames: np.ndarray, n_diff: int = 2) -> np.ndarray:
    """Onsets plus sharp rises of the frame activations (Basic Pitch's ``get_infered_onsets``)."""
    diffs = []
    for n in range(1, n_diff + 1):
        shifted = np.concatenate([np.zeros((n, frames.shape[1])), frames])
        diffs.append(shifted[n:, :] - shifted[:-n, :])
    rise = np.min(diffs, axis=0)
    rise[rise < 0] = 0
    rise[:n_diff, :] = 0
    if rise.max() > 0:
        rise = onsets.max() * rise / rise.max()
    return np.maximum(onsets, rise)


def _walk(energy: np.ndarray, start: int, pitch_bin: int, threshold: float, step: int):
    """Walk from ``start`` while the energy holds (up to ``ENERGY_TOLERANCE`` frames below
    ``threshold``); where the walk stopped and how many frames at its end were below."""
    n_frames = energy.shape[0]
    i, below = start + step, 0
    while 0 < i < n_frames - 1 and below < ENERGY_TOLERANCE:
        below = below + 1 if energy[i, pitch_bin] < threshold else 0
        i += step
    return i, below


def _clear(energy: np.ndarray, first: int, last: int, pitch_bin: int) -> None:
    low, high = max(pitch_bin - 1, 0), min(pitch_bin + 1, MAX_BIN)
    energy[first:last, low : high + 1] = 0


def decode_notes(
    frames: np.ndarray, onsets: np.ndarray, settings: Settings = DEFAULT
) -> list[tuple[int, int, int, float]]:
    """Note events ``(first frame, end frame, MIDI pitch, amplitude)`` from activations.

    Onset peaks start notes that last while the frame activation holds; with
    ``melodia``, what energy is left is then read as further notes, loudest first.
    """
    n_frames = frames.shape[0]
    min_len = int(round(settings.min_note_seconds * FRAMES_PER_SECOND))
    onsets = _inferred_onsets(onsets, frames)
    peaks = np.zeros(onsets.shape)
    where = scipy.signal.argrelmax(onsets, axis=0)
    peaks[where] = onsets[where]
    starts = np.argwhere(peaks >= settings.onset_threshold)[::-1]  # backwards in time
    energy = frames.copy()
    events = []
    for start, pitch_bin in starts:
        if start >= n_frames - 1:
            continue
        stop, below = _walk(energy, start, pitch_bin, settings.frame_threshold, 1)
        end = stop - below
        if end - start <= min_len:
            continue
        _clear(energy, start, end, pitch_bin)
        events.append(_event(frames, start, end, pitch_bin))
    while settings.melodia and energy.max() > settings.frame_threshold:
        middle, pitch_bin = np.unravel_index(np.argmax(energy), energy.shape)
        energy[middle, pitch_bin] = 0
        stop, below = _walk(energy, middle, pitch_bin, settings.frame_threshold, 1)
        end = stop - 1 - below
        back, below_back = _walk(energy, middle, pitch_bin, settings.frame_threshold, -1)
        first = back + 1 + below_back
        _clear(energy, back + 1, stop, pitch_bin)
        if end - first <= min_len:
            continue
        events.append(_event(frames, first, end, pitch_bin))
    return events


def _event(frames: np.ndarray, first, end, pitch_bin) -> tuple[int, int, int, float]:
    amplitude = float(np.mean(frames[first:end, pitch_bin]))
    return int(first), int(end), int(pitch_bin) + LOWEST_MIDI, amplitude


def _runs(values: np.ndarray) -> list[list[int]]:
    """``[first, end, value]`` for each run of equal values."""
    edges = np.flatnonzero(np.diff(values)) + 1
    bounds = np.concatenate([[0], edges, [values.shape[0]]])
    return [[int(a), int(b), int(values[a])] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def decode_line(
    frames: np.ndarray, onsets: np.ndarray, settings: Settings = DEFAULT
) -> list[tuple[int, int, int, float]]:
    """Note events of a monophonic line: the strongest pitch frame by frame.

    A change of pitch starts a note whatever its onset activation (the model's
    onsets are weak for low bass notes); an onset peak inside a run of one pitch
    re-strikes it. Blips shorter than the minimum join the note before them.
    A faint run (below ``frame_threshold``, above ``weak_threshold``) needs an
    onset peak at its start.
    """
    min_len = int(round(settings.min_note_seconds * FRAMES_PER_SECOND))
    onsets = _inferred_onsets(onsets, frames)
    floor = settings.weak_threshold or settings.frame_threshold
    pitch = np.where(frames.max(axis=1) >= floor, frames.argmax(axis=1), -1)
    merged: list[list[int]] = []
    for first, end, pitch_bin in _runs(pitch):
        joins = merged and merged[-1][1] == first and merged[-1][2] >= 0 and pitch_bin >= 0
        if joins and (pitch_bin == merged[-1][2] or end - first <= min_len):
            merged[-1][1] = end
        else:
            merged.append([first, end, pitch_bin])
    events = []
    for first, end, pitch_bin in merged:
        if pitch_bin < 0:
            continue
        low = max(first - settings.snap_frames, 0)
        column = onsets[low:end, pitch_bin]
        peaks, _ = scipy.signal.find_peaks(column, height=settings.split_threshold)
        starts, snapped = [first], False
        for peak in peaks + low:
            if abs(peak - first) <= settings.snap_frames and not snapped:
                starts[0], snapped = int(peak), True  # the run's own onset: the note's start
            elif peak - starts[-1] > min_len:
                starts.append(int(peak))
        weak = frames[first:end, pitch_bin].max() < settings.frame_threshold
        if weak and not snapped:
            continue  # faint and without an onset of its own: a tail or a harmonic
        for a, b in zip(starts, starts[1:] + [end], strict=True):
            if b - a > min_len:
                events.append(_event(frames, a, b, pitch_bin))
    return events


def events_to_notes(events: list[tuple[int, int, int, float]], times: np.ndarray) -> list[Note]:
    """Frame events as notes in seconds, in time order (velocity from the mean activation)."""
    last = len(times) - 1
    notes = [
        Note(float(times[a]), float(times[min(b, last)]), pitch, max(1, round(127 * amp)))
        for a, b, pitch, amp in events
    ]
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def monophonic(notes: list[Note]) -> list[Note]:
    """One note at a time: of notes starting together the loudest wins, and a note
    ends where the next one starts (a bass or lead line played legato)."""
    kept: list[Note] = []
    for note in sorted(notes, key=lambda n: (n.start, -n.velocity)):
        if kept and note.start - kept[-1].start < 0.05:
            if note.velocity > kept[-1].velocity:
                kept[-1] = note
            continue
        if kept and kept[-1].end > note.start:
            kept[-1] = Note(kept[-1].start, note.start, kept[-1].pitch, kept[-1].velocity)
        kept.append(note)
    return kept


def transcribe_audio(
    audio: np.ndarray, sample_rate: int, settings: Settings = DEFAULT, *, mono_line: bool = True
) -> list[Note]:
    """The notes of mono ``audio``; one at a time when ``mono_line``."""
    if sample_rate != SAMPLE_RATE:
        audio = soxr.resample(audio, sample_rate, SAMPLE_RATE, quality="HQ")
    frames, onsets = activations(np.asarray(audio, np.float32))
    if frames.shape[0] < 2:
        return []
    decode = decode_line if settings.line else decode_notes
    notes = events_to_notes(decode(frames, onsets, settings), frame_times(frames.shape[0]))
    return monophonic(notes) if mono_line else notes


def transcribe_file(path: str | os.PathLike, settings: Settings = DEFAULT) -> list[Note]:
    """The notes of the audio file at ``path`` (decoded as the analyser does)."""
    audio = decode_audio(path, levels_max_seconds=0)
    return transcribe_audio(audio.samples, audio.sample_rate, settings)


def midi_bytes(notes: list[Note], *, bpm: float | None = None, program: int = 0) -> bytes:
    """A type-0 Standard MIDI File of ``notes`` at ``bpm`` (120 when unknown), so a DAW
    that follows the file's tempo lays the notes on its grid."""
    tempo = mido.bpm2tempo(bpm or 120.0)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=tempo, time=0))
    track.append(mido.Message("program_change", program=program, time=0))
    events = []
    for n in notes:
        on = round(mido.second2tick(n.start, TICKS_PER_BEAT, tempo))
        off = max(on + 1, round(mido.second2tick(n.end, TICKS_PER_BEAT, tempo)))
        velocity = max(1, min(127, n.velocity))
        events.append((on, 1, mido.Message("note_on", note=n.pitch, velocity=velocity)))
        events.append((off, 0, mido.Message("note_off", note=n.pitch, velocity=0)))
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    out = io.BytesIO()
    mido.MidiFile(type=0, ticks_per_beat=TICKS_PER_BEAT, tracks=[track]).save(file=out)
    return out.getvalue()
