"""The analysis pipeline: decoded audio in, one flat, JSON-ready dict of descriptors out.

Keys (units; None where a value does not exist):

- ``duration`` (s, whole file), ``sample_rate`` (Hz), ``channels``,
  ``bit_depth`` (None for lossy formats), ``format``;
- ``peak_db`` (sample peak, dBFS), ``rms_db`` (dBFS), ``loudness_lufs``
  (ITU-R BS.1770 integrated): whole file, also for long files up to
  ``decode.LEVELS_MAX_SECONDS``; None for digital silence / below the gate;
- ``spectral_centroid``, ``spectral_rolloff``, ``spectral_bandwidth`` (Hz),
  ``spectral_flatness`` (0..1), ``zero_crossing_rate`` (per sample),
  ``mfcc_mean``/``mfcc_std`` (13 each, dB-scaled mel cepstrum);
- ``onset_rate`` (per second), ``attack_time``, ``decay_time`` (s);
- ``bpm``, ``bpm_confidence`` (0..1); ``key``, ``mode``, ``key_confidence``;
  ``pitch_hz``, ``pitch_note`` (tonal one-shots);
- ``is_loop``, ``category`` (``CATEGORIES``), ``category_confidence``;
- ``embedding`` (``EMBEDDING_DIM`` floats, unit length; only when asked);
- ``analyzer_version``, ``analysed_seconds`` (how much audio the tempo, key and
  timbre describe), ``seconds`` (wall time of the analysis).

Long files: tempo, key, timbre and category describe the first
``EXCERPT_SECONDS`` (60 s); duration and levels describe the whole file.

Silence (peak under -80 dBFS): levels as measured (None for digital
silence), spectral values, MFCCs, attack and decay None, no tempo, key or
pitch, ``category`` "other", and a fixed embedding shared by all silent files.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import soxr

from library.analysis import (
    category,
    classify,
    embedding,
    envelope,
    key_model,
    rhythm,
    spectral,
    tonal,
)
from library.analysis.constants import ANALYZER_VERSION
from library.analysis.decode import Audio, decode_audio
from library.analysis.loudness import measure_levels

EXCERPT_SECONDS = 60.0
SILENCE_PEAK = 1e-4  # -80 dBFS
SINGLE_NOTE_CATEGORIES = ("bass", "synth", "keys")
ROOT_NOTE_CATEGORIES = frozenset({"bass", "synth", "keys", "pad", "vocal", "other"})
NO_KEY_CATEGORIES = classify.DRUM_CATEGORIES
# Drums get no key unless the classifier gives a music loop at least this probability (a
# music loop with drums read as a drum loop): chosen on fresh rendered loops, where it keys
# half the music loops read as drums and under 1% of drum loops.
MUSIC_KEY_EVIDENCE = 0.1  # see models/KEY_TEMPO_CARD.md
# What music loops need of tonalness for a key: on rendered training loops most of those
# between 0.05 and 0.15 (chorused pads, detuned leads) are still read right.
MUSIC_MIN_TONALNESS = 0.05
# A tempo is looked for when the model gives loops this much; whole bars at a clear tempo
# (confidence at least BAR_FIT_CONFIDENCE) then multiply the odds of a loop by BAR_FIT_ODDS.
LOOP_EVIDENCE = 0.1
BAR_FIT_CONFIDENCE = 0.5
BAR_FIT_ODDS = 10.0
NO_PITCH_CATEGORIES = frozenset({"snare", "clap", "hihat", "cymbal", "fx"})


def analyze_file(
    path: str | os.PathLike, *, filename: str | None = None, embedding: bool = True
) -> dict:
    """Decode ``path`` (by content) and analyse it; raises ``AudioDecodeError``."""
    started = time.perf_counter()
    audio = decode_audio(path, max_seconds=EXCERPT_SECONDS)
    result = analyze_audio(audio, filename=filename or Path(path).name, embedding=embedding)
    result["seconds"] = round(time.perf_counter() - started, 4)
    return result


def analysis_signal(audio: Audio) -> np.ndarray:
    """The mono mix of the first ``EXCERPT_SECONDS`` at 22.05 kHz, float32."""
    samples = audio.samples[: int(EXCERPT_SECONDS * audio.sample_rate)]
    if audio.sample_rate != spectral.SR:
        samples = soxr.resample(samples, audio.sample_rate, spectral.SR, quality="MQ")
    return np.ascontiguousarray(samples, dtype=np.float32)


def analyze_audio(audio: Audio, *, filename: str | None = None, embedding: bool = True) -> dict:
    """Every descriptor of ``audio`` (see the module docstring)."""
    started = time.perf_counter()
    levels = audio.file_levels or measure_levels(audio.channels_data, audio.sample_rate)
    y = analysis_signal(audio)
    analysed = y.size / spectral.SR
    whole = not audio.is_excerpt and audio.duration <= EXCERPT_SECONDS
    result: dict = {
        "duration": round(audio.duration, 4),
        "sample_rate": audio.sample_rate,
        "channels": audio.channels,
        "bit_depth": audio.bit_depth,
        "format": audio.format,
        "peak_db": _round(levels.peak_db, 2),
        "rms_db": _round(levels.rms_db, 2),
        "loudness_lufs": _round(levels.loudness_lufs, 2),
    }
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak < SILENCE_PEAK:
        result.update(_silent(embedding))
    else:
        result.update(_describe(y / peak, audio.duration, whole, filename, embedding))
    result["analyzer_version"] = ANALYZER_VERSION
    result["analysed_seconds"] = round(analysed, 3)
    result["seconds"] = round(time.perf_counter() - started, 4)
    return _finite(result)


def tonal_evidence(
    y: np.ndarray, spec: spectral.Spectrum
) -> tuple[envelope.Envelope, float | None, float, tonal.TonalProfile]:
    """The envelope, the fundamental (Hz or None) and its periodicity, and the pitch-class
    profile: what the classifier and the key and pitch read."""
    env = envelope.describe_envelope(y)
    start = env.peak_index * envelope.BLOCK + int(0.03 * spectral.SR)
    pitch_hz, periodicity = tonal.estimate_pitch(y, min(start, max(0, y.size - 4096)))
    if pitch_hz and not (
        spectral.has_energy_near(spec, pitch_hz) or spectral.has_energy_near(spec, 2 * pitch_hz)
    ):
        # A period with nothing at the fundamental or its octave is a chord's
        # common (virtual) fundamental, not a note.
        pitch_hz, periodicity = None, min(periodicity, 0.5)
    return env, pitch_hz, periodicity, tonal.tonal_profile(y)


def _describe(
    y: np.ndarray, duration: float, whole: bool, filename: str | None, with_embedding: bool
) -> dict:
    spec = spectral.compute_spectrum(y)
    shape = spectral.spectral_descriptors(spec, y)
    mfccs = spectral.mfcc(spec)
    mfcc_mean, mfcc_std = spectral.weighted_stats(mfccs, spec.weights)
    noisiness = spectral.noisiness(spec)
    analysed = y.size / spectral.SR

    env, pitch_hz, periodicity, profile = tonal_evidence(y, spec)
    measured = category.Measured(
        shape, mfcc_mean, mfcc_std, noisiness, profile.tonalness, periodicity
    )
    decision = classify.classify(category.features(y, spec, duration, measured), filename)
    circular = whole and duration <= rhythm.LOOP_MAX_SECONDS
    flux = rhythm.onset_envelope(spec, circular=circular)
    onsets = rhythm.onset_frames(flux, spec.fps)
    tempo = rhythm.Tempo(None, 0.0)
    if decision.loop_share >= LOOP_EVIDENCE:
        # Only what may be a loop gets a tempo: a pad's swells or a cymbal's shimmer are
        # not a pulse.
        tempo = rhythm.estimate_tempo(
            flux,
            spec.fps,
            duration if whole else analysed,
            circular=circular,
            onsets=int(onsets.size),
            drumness=min(1.0, max(0.0, (noisiness - 0.04) / 0.1)),
            hint_bpm=rhythm.bpm_from_name(filename or ""),
            chroma=profile.frames,
        )
        if not decision.is_loop and tempo.bars and tempo.confidence >= BAR_FIT_CONFIDENCE:
            # A clear pulse over whole bars is evidence of a loop the model cannot see.
            decision = decision.with_loop_evidence(BAR_FIT_ODDS)
    is_loop = decision.is_loop
    if is_loop and circular and tempo.bpm is None:
        # Held chords give no pulse to hear, but a loop cut at its bar lines still has
        # the tempo its length implies.
        tempo = rhythm.tempo_from_length(duration)
    bpm, bpm_confidence = (tempo.bpm, tempo.confidence) if is_loop else (None, 0.0)

    category_name = decision.category
    if category_name in NO_PITCH_CATEGORIES or is_loop or periodicity < 0.6:
        pitch_hz = None
    key, mode, key_confidence = None, None, 0.0
    music_share = decision.probabilities["music_loop"]
    musical = category_name == "music_loop" or music_share >= MUSIC_KEY_EVIDENCE
    if category_name not in NO_KEY_CATEGORIES or musical:
        if (
            not is_loop
            and category_name in SINGLE_NOTE_CATEGORIES
            and pitch_hz
            and periodicity > 0.8
        ):
            note = int(round(69 + 12 * math.log2(pitch_hz / 440.0)))
            key, key_confidence = tonal.NOTE_NAMES[note % 12], periodicity * profile.tonalness
        else:
            found = key_model.estimate_key(
                profile,
                analysed,
                hint=tonal.key_from_name(filename or ""),
                min_tonalness=MUSIC_MIN_TONALNESS if musical else key_model.MIN_TONALNESS,
            )
            key, mode, key_confidence = found.key, found.mode, found.confidence
    root_note = None
    if pitch_hz and not is_loop and category_name in ROOT_NOTE_CATEGORIES:
        root_note = tonal.note_name(pitch_hz)

    result = {
        "spectral_centroid": _round(shape["spectral_centroid"], 1),
        "spectral_rolloff": _round(shape["spectral_rolloff"], 1),
        "spectral_flatness": _round(shape["spectral_flatness"], 5),
        "spectral_bandwidth": _round(shape["spectral_bandwidth"], 1),
        "zero_crossing_rate": _round(shape["zero_crossing_rate"], 5),
        "mfcc_mean": [round(float(v), 3) for v in mfcc_mean],
        "mfcc_std": [round(float(v), 3) for v in mfcc_std],
        "onset_rate": _round(onsets.size / analysed if analysed > 0 else 0.0, 3),
        "attack_time": _round(env.attack_time, 4),
        "decay_time": _round(env.decay_time, 4),
        "bpm": _round(bpm, 2),
        "bpm_confidence": _round(bpm_confidence, 3),
        "key": key,
        "mode": mode,
        "key_confidence": _round(key_confidence, 3),
        "pitch_hz": _round(pitch_hz, 2),
        "pitch_note": tonal.note_name(pitch_hz) if pitch_hz else None,
        "root_note": root_note,
        "is_loop": bool(is_loop),
        "category": category_name,
        "category_confidence": _round(decision.confidence, 3),
        "category_top": [[c, p] for c, p in decision.top],
        "category_probabilities": {c: round(p, 5) for c, p in decision.probabilities.items()},
        "tonalness": _round(profile.tonalness, 3),
        "noisiness": _round(noisiness, 4),
    }
    if with_embedding:
        onset_rate = onsets.size / analysed if analysed > 0 else 0.0
        timbre = timbre_of(spec, shape, noisiness, profile, periodicity, env, duration, onset_rate)
        result["embedding"] = embedding.sound_embedding(decision.projected, decision.heard, timbre)
    return result


def timbre_of(
    spec: spectral.Spectrum,
    shape: dict,
    noisiness: float,
    profile: tonal.TonalProfile,
    periodicity: float,
    env: envelope.Envelope,
    duration: float,
    onset_rate: float,
) -> np.ndarray:
    """The embedding's 16 timbre numbers (``embedding.timbre_scalars``) from what the
    analysis has read; the trainer measures held-out neighbours with the same numbers."""
    power = spec.power
    total = float(power.sum()) or 1.0
    scalars = {
        "centroid": shape["spectral_centroid"],
        "rolloff": shape["spectral_rolloff"],
        "bandwidth": shape["spectral_bandwidth"],
        "flatness": shape["spectral_flatness"],
        "noisiness": noisiness,
        "zcr": shape["zero_crossing_rate"],
        "tonalness": profile.tonalness,
        "periodicity": periodicity,
        "attack": env.attack_time,
        "decay": env.decay_time,
        "duration": duration,
        "onset_rate": onset_rate,
        "temporal_centroid": env.temporal_centroid,
        "sustain": env.sustain,
        "low_share": float(power[:, spec.freqs < 150].sum()) / total,
        "high_share": float(power[:, spec.freqs > 5000].sum()) / total,
    }
    return embedding.timbre_scalars(scalars)


def _silent(with_embedding: bool) -> dict:
    result = {
        "spectral_centroid": None,
        "spectral_rolloff": None,
        "spectral_flatness": None,
        "spectral_bandwidth": None,
        "zero_crossing_rate": 0.0,
        "mfcc_mean": None,
        "mfcc_std": None,
        "onset_rate": 0.0,
        "attack_time": None,
        "decay_time": None,
        "bpm": None,
        "bpm_confidence": 0.0,
        "key": None,
        "mode": None,
        "key_confidence": 0.0,
        "pitch_hz": None,
        "pitch_note": None,
        "root_note": None,
        "is_loop": False,
        "category": "other",
        "category_confidence": 1.0,
        "category_top": [["other", 1.0]],
        "category_probabilities": {c: float(c == "other") for c in classify.CATEGORIES},
        "tonalness": 0.0,
        "noisiness": 0.0,
    }
    if with_embedding:
        result["embedding"] = embedding.silence_embedding()
    return result


def _round(value: float | None, digits: int) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _finite(value):
    """Replace any non-finite float (anywhere in the structure) by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value
