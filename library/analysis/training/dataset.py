"""Every training source as labelled clips, cached, and clips as feature rows.

Sources: the five GM soundfonts (``render.SOUNDFONTS``) and "synth", our own
synthesis (``synth``: drums, basses, leads, keys, pads, effects and loops)
with espeak-ng speaking and singing for vocals. Reversed cymbals and notes
add to the effects of each source, as "reverse" sounds do in packs.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from library.analysis import category, spectral
from library.analysis.descriptors import tonal_evidence
from library.analysis.training import loops, render, synth
from library.analysis.training.augment import augment
from library.analysis.training.render import SR, Clip, seeded

SOURCE_NAMES = tuple(s.name for s in render.SOUNDFONTS) + ("synth",)
LOOPS_PER_SOURCE = 40
WORDS = (
    "yeah", "hey", "oh", "come on", "let's go", "uh", "one two", "drop", "baby",
    "ah", "woo", "get down", "feel it", "say what", "alright", "listen", "ooh",
    "la la la", "no", "right now", "higher", "move", "check it", "ha",
)  # fmt: skip
VOICES = ("en", "en+f2", "en+f3", "en+m3", "en+f4", "en-us", "en+m7", "en+croak", "en+whisper")


def _resampled(x: np.ndarray, rate: int) -> np.ndarray:
    return soxr.resample(x.astype(np.float64), rate, SR).astype(np.float32)


def _espeak(rng: np.random.Generator, count: int) -> list[Clip]:
    clips = []
    if not shutil.which("espeak-ng"):
        raise RuntimeError("espeak-ng is missing: apt-get install espeak-ng")
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder, "v.wav")
        for i in range(count):
            sung = i % 3 == 0
            text = "aaaaaah" if sung and i % 2 else ("ooooooh" if sung else WORDS[i % len(WORDS)])
            args = [
                "-v",
                VOICES[int(rng.integers(len(VOICES)))],
                "-p",
                str(int(rng.integers(20, 90))),
            ]
            args += ["-s", str(int(rng.integers(90, 200))), "-w", str(wav), text]
            subprocess.run(["espeak-ng", *args], check=True, capture_output=True, timeout=60)  # noqa: S603,S607
            data, rate = sf.read(wav, dtype="float32")
            clips.append(Clip("synth", "vocal", render.trim_tail(_resampled(data, rate))))
    return clips


def synth_clips(seed: int = 1) -> list[Clip]:
    rng = np.random.default_rng(seed)
    clips = []
    for name, make in synth.ONE_SHOTS.items():
        for _ in range(60):
            clips.append(Clip("synth", name, render.trim_tail(_resampled(make(rng), synth.SR))))
    styles = list(synth.STYLES)
    for i in range(LOOPS_PER_SOURCE):
        style = styles[i % len(styles)]
        bpm = float(round(rng.uniform(*synth.STYLES[style][0])))
        bars = int(rng.choice([1, 2, 2, 4]))
        bars *= 2 if bars * 240 / bpm < 2.5 else 1
        audio = _resampled(synth.drum_loop(rng, style, bpm, bars), synth.SR)
        clips.append(Clip("synth", "drum_loop", audio, True, bpm))
        tonic, mode = int(rng.integers(12)), str(rng.choice(["major", "minor"]))
        bpm = float(rng.integers(70, 176))
        audio = _resampled(synth.music_loop(rng, tonic, mode, bpm, bars), synth.SR)
        clips.append(Clip("synth", "music_loop", audio, True, bpm, tonic, mode))
    for _ in range(50):
        low, high, chord = rng.integers(28, 50), rng.integers(52, 84), rng.integers(50, 62)
        tones = (
            ("bass", [low], rng.uniform(0.3, 1.5), 0.005, rng.uniform(0.5, 4)),
            ("synth", [high], rng.uniform(0.2, 1.5), 0.005, rng.uniform(1, 10)),
            ("pad", [n + chord for n in (0, 4, 7, 11)], rng.uniform(3, 8),
             rng.uniform(0.3, 1.5), rng.uniform(0, 0.3)),
        )  # fmt: skip
        for name, notes, seconds, attack, decay in tones:
            audio = _resampled(synth.additive(rng, notes, seconds, attack, decay), synth.SR)
            clips.append(Clip("synth", name, render.trim_tail(audio)))
        tonic, mode = int(rng.integers(12)), str(rng.choice(["major", "minor"]))
        bpm, bars = float(rng.integers(70, 176)), int(rng.choice([2, 4]))
        audio = synth.additive_progression(rng, tonic, mode, bpm, bars)
        clips.append(
            Clip("synth", "music_loop", _resampled(audio, synth.SR), True, bpm, tonic, mode)
        )
    return clips + _espeak(rng, 90)


def _reversed(clips: list[Clip], rng: np.random.Generator) -> list[Clip]:
    pool = [c for c in clips if c.category in ("cymbal", "pad", "keys") and c.audio.size > SR]
    picks = rng.choice(len(pool), min(len(pool), 40), replace=False) if pool else []
    return [Clip(pool[i].source, "fx", pool[i].audio[::-1].copy()) for i in picks]


def _layered(clips: list[Clip], rng: np.random.Generator) -> list[Clip]:
    """Two hits of one class played together, as producers layer kicks, snares and claps."""
    out = []
    for name in ("kick", "snare", "clap", "hihat", "percussion", "tom"):
        pool = [c for c in clips if c.category == name]
        for _ in range(min(30, len(pool))):
            a, b = (pool[i].audio for i in rng.choice(len(pool), 2, replace=False))
            offset = int(rng.uniform(0, 0.01) * SR)
            mixed = np.zeros(max(a.size, b.size + offset), dtype=np.float32)
            mixed[: a.size] += a
            mixed[offset : offset + b.size] += b * rng.uniform(0.3, 1.0)
            out.append(Clip(pool[0].source, name, mixed))
    return out


def source_clips(name: str, cache: Path | None = None) -> list[Clip]:
    """Every clip of source ``name``, rendered once and kept in ``cache``."""
    path = cache / f"{name}.pickle" if cache else None
    if path and path.exists():
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own cache file
    if name == "synth":
        clips = synth_clips()
    else:
        source = next(s for s in render.SOUNDFONTS if s.name == name)
        rng = seeded(name, "loops")
        clips = render.render_drums(source) + render.render_notes(source)
        renderer = lambda notes, programs: render.fluidsynth(source.path, notes, programs)  # noqa: E731
        clips += loops.render_loops(name, renderer, rng, LOOPS_PER_SOURCE)
    clips += _reversed(clips, seeded(name, "reversed")) + _layered(clips, seeded(name, "layers"))
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(clips))
    return clips


def clip_features(audio: np.ndarray) -> np.ndarray | None:
    """The classifier's input for ``audio`` (mono at ``SR``), as the analyser computes it."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak < 1e-4 or audio.size < 256:
        return None
    y = np.ascontiguousarray(audio[: int(60 * SR)] / peak, dtype=np.float32)
    spec = spectral.compute_spectrum(y)
    _, _, periodicity, profile = tonal_evidence(y, spec)
    mfcc_mean, mfcc_std = spectral.weighted_stats(spectral.mfcc(spec), spec.weights)
    measured = category.Measured(
        spectral.spectral_descriptors(spec, y),
        mfcc_mean,
        mfcc_std,
        spectral.noisiness(spec),
        profile.tonalness,
        periodicity,
    )
    return category.features(y, spec, audio.size / SR, measured)


def _rows(job: tuple[list[Clip], int, int]) -> list[tuple[int, int, np.ndarray]]:
    """(clip index, variant, features) for each clip: variant 0 clean, then augmented copies."""
    clips, copies, seed = job
    out = []
    for index, clip in enumerate(clips):
        rng = np.random.default_rng([seed, index])
        for variant in range(copies + 1):
            audio = clip.audio
            if variant:
                audio = augment(audio, rng, loop=clip.is_loop)
            row = clip_features(audio)
            if row is not None:
                out.append((index, variant, row))
    return out


def feature_rows(
    clips: list[Clip], copies: int, seed: int, workers: int = 2
) -> Iterable[tuple[int, int, np.ndarray]]:
    """Features of every clip and ``copies`` augmented versions of it, in parallel."""
    chunks = [(clips[i : i + 50], copies, seed + i) for i in range(0, len(clips), 50)]
    with ProcessPoolExecutor(workers) as pool:
        for offset, rows in zip(range(0, len(clips), 50), pool.map(_rows, chunks), strict=True):
            for index, variant, row in rows:
                yield offset + index, variant, row
