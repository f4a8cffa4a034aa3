"""Render labelled clips from Debian's General MIDI soundfonts with fluidsynth.

Each source renders, note by note, every GM drum kit it has (the percussion
map labels the hits) and every melodic program with a category (short and
held notes across the instrument's range), plus drum loops and music loops
sequenced from the same instruments with known tempo and key. One MIDI file
per part keeps fluidsynth's start-up (seconds for a compressed .sf3) to a few
runs per source. Reverb and chorus are off: rooms are added by augmentation.
"""

from __future__ import annotations

import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from library.analysis.training import labels
from library.analysis.training.midi import DRUM_CHANNEL, Note, Program, midi_bytes

SR = 22050
GAP = 2.5  # seconds after a note's end before the next one starts (release tails)


@dataclass(frozen=True)
class Source:
    name: str
    path: str
    package: str
    licence: str


SOUNDFONTS = (
    Source("fluidr3", "/usr/share/sounds/sf2/FluidR3_GM.sf2", "fluid-soundfont-gm", "MIT"),
    Source(
        "musescore",
        "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
        "musescore-general-soundfont",
        "MIT",
    ),
    Source("timgm6mb", "/usr/share/sounds/sf2/TimGM6mb.sf2", "timgm6mb-soundfont", "GPL-2"),
    Source("opl3", "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2", "opl3-soundfont", "GPL-3+"),
    Source("csound", "/usr/share/sounds/sf2/sf_GMbank.sf2", "csound-soundfont", "LGPL-2.1+"),
)


@dataclass
class Clip:
    source: str
    category: str
    audio: np.ndarray  # mono float32 at SR
    is_loop: bool = False
    bpm: float | None = None
    key: int | None = None  # tonic pitch class of a music loop
    mode: str | None = None
    root: int | None = None  # MIDI note of a tonal one-shot
    meta: dict = field(default_factory=dict)


def seeded(*parts: object) -> np.random.Generator:
    """A generator seeded from ``parts``: the same data on every run and machine."""
    return np.random.default_rng(zlib.crc32(repr(parts).encode()))


def fluidsynth(soundfont: str, notes: list[Note], programs: list[Program]) -> np.ndarray:
    """Render ``notes`` with ``soundfont``; mono float32 at ``SR``."""
    with tempfile.TemporaryDirectory() as folder:
        mid, wav = Path(folder, "in.mid"), Path(folder, "out.wav")
        mid.write_bytes(midi_bytes(notes, programs))
        subprocess.run(  # noqa: S603 - fixed arguments, our own files
            ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.6", "-r", str(SR)]
            + ["-F", str(wav), soundfont, str(mid)],
            check=True,
            capture_output=True,
            timeout=600,
        )
        data, _ = sf.read(wav, dtype="float32", always_2d=True)
    return data.mean(axis=1)


def trim_tail(x: np.ndarray, below_db: float = 60.0) -> np.ndarray:
    """Cut the silence after the last sample within ``below_db`` of the peak."""
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak == 0.0:
        return x[:0]
    loud = np.flatnonzero(np.abs(x) > peak * 10 ** (-below_db / 20))
    return x[: loud[-1] + 1]


def _slices(audio: np.ndarray, spans: list[tuple[float, float]]) -> list[np.ndarray]:
    out = []
    for start, end in spans:
        piece = audio[int(start * SR) : int(end * SR)]
        out.append(piece.astype(np.float32))
    return out


def render_drums(source: Source) -> list[Clip]:
    notes, programs, spans, meta = [], [], [], []
    t = 0.0
    for kit in labels.DRUM_KITS:
        programs.append(Program(t, DRUM_CHANNEL, 0, kit))
        t += 0.1
        for note, category in labels.DRUM_NOTES.items():
            for velocity in (70, 110):
                notes.append(Note(t, 0.2, note, velocity, DRUM_CHANNEL))
                spans.append((t, t + 3.0))
                meta.append((category, kit, note, velocity))
                t += 3.2
    audio = fluidsynth(source.path, notes, programs)
    clips, seen = [], set()
    for (category, kit, note, velocity), piece in zip(meta, _slices(audio, spans), strict=True):
        piece = trim_tail(piece)
        # A soundfont without a kit falls back to its standard kit: keep one copy.
        fingerprint = (note, velocity, piece.size, round(float(np.abs(piece).sum()), 2))
        if piece.size < SR * 0.02 or fingerprint in seen:
            continue
        seen.add(fingerprint)
        clips.append(Clip(source.name, category, piece, meta={"kit": kit, "note": note}))
    return clips


def _pitches(category: str, rng: np.random.Generator) -> list[int]:
    if category == "bass":
        return list(rng.choice(np.arange(28, 53), 4, replace=False))
    if category in ("pad", "vocal"):
        return list(rng.choice(np.arange(45, 77), 3, replace=False))
    return list(rng.choice(np.arange(40, 89), 4, replace=False))


def render_notes(source: Source, seed: int = 0) -> list[Clip]:
    rng = seeded(source.name, seed)
    notes, programs, spans, meta = [], [], [], []
    t = 0.0
    for program in range(128):
        category = labels.program_category(program)
        if category is None:
            continue
        programs.append(Program(t, 0, 0, program))
        t += 0.1
        lengths = (2.5, 5.0) if category == "pad" else (0.25, 1.2)
        for length in lengths:
            for pitch in _pitches(category, rng):
                velocity = int(rng.integers(70, 121))
                notes.append(Note(t, length, pitch, velocity, 0))
                spans.append((t, t + length + GAP - 0.2))
                meta.append((category, program, pitch))
                t += length + GAP
    audio = fluidsynth(source.path, notes, programs)
    clips = []
    for (category, program, pitch), piece in zip(meta, _slices(audio, spans), strict=True):
        piece = trim_tail(piece)
        if piece.size < SR * 0.05:
            continue
        root = pitch if category in ("bass", "keys", "synth", "pad", "vocal") else None
        clips.append(Clip(source.name, category, piece, root=root, meta={"program": program}))
    return clips
