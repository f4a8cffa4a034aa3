"""Music loops in known keys and tempi for the key model and the tempo chooser.

Each GM soundfont renders ``LOOPS`` music loops from the loop sequencer
(``loops.music_part``: chords, bass, arpeggios, drums in half of them), and
the synthesiser adds its own progressions; every loop is cut at its bar
lines. Seeds are derived from the source name, never the benchmark's.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from library.analysis.training import loops, render, synth
from library.analysis.training.dataset import _resampled
from library.analysis.training.midi import DRUM_CHANNEL, Program
from library.analysis.training.render import GAP, Clip, seeded

LOOPS = 160
DRUMS_SHARE = 0.5


def music_loops(source: render.Source, count: int) -> list[Clip]:
    """``count`` music loops rendered with ``source``, in one fluidsynth run."""
    rng = seeded(source.name, "key-loops")
    chords = loops._programs("keys") + loops._programs("pad") + loops._programs("synth")
    basses, leads = loops._programs("bass"), loops._programs("synth")
    styles = list(synth.STYLES)
    notes, programs, meta = [], [], []
    t = 0.0
    for _ in range(count):
        style = styles[int(rng.integers(len(styles)))]
        bpm = float(rng.integers(70, 176))
        bars = int(rng.choice([1, 2, 2, 4]))
        if bars * 4 * 60 / bpm < 2.5:
            bars *= 2
        length = bars * 4 * 60 / bpm
        tonic, mode = int(rng.integers(12)), str(rng.choice(["major", "minor"]))
        programs.append(Program(t, DRUM_CHANNEL, 0, int(rng.choice(loops.labels.DRUM_KITS))))
        for channel, choices in ((0, chords), (1, basses), (2, leads)):
            programs.append(Program(t, channel, 0, int(rng.choice(choices))))
        notes += loops.music_part(rng, tonic, mode, bpm, bars, t + 0.1)
        if rng.random() < DRUMS_SHARE:
            notes += loops.drum_part(rng, style, bpm, bars, t + 0.1)
        meta.append((t + 0.1, length, bpm, tonic, mode))
        t += 0.1 + length + GAP
    audio = render.fluidsynth(source.path, notes, programs)
    clips = []
    for start, length, bpm, tonic, mode in meta:
        first = int(start * render.SR)
        piece = audio[first : first + int(round(length * render.SR))]
        clips.append(Clip(source.name, "music_loop", piece, True, bpm, tonic, mode))
    return clips


def synth_loops(count: int) -> list[Clip]:
    """``count`` loops of the synthesiser's own progressions (half of them additive tones)."""
    rng = seeded("synth", "key-loops")
    clips = []
    for i in range(count):
        tonic, mode = int(rng.integers(12)), str(rng.choice(["major", "minor"]))
        bpm, bars = float(rng.integers(70, 176)), int(rng.choice([1, 2, 2, 4]))
        if bars * 4 * 60 / bpm < 2.5:
            bars *= 2
        make = synth.music_loop if i % 2 else synth.additive_progression
        audio = _resampled(make(rng, tonic, mode, bpm, bars), synth.SR)
        clips.append(Clip("synth", "music_loop", audio, True, bpm, tonic, mode))
    return clips


def source_loops(name: str, cache: Path | None = None) -> list[Clip]:
    """The music loops of source ``name``, made once and kept in ``cache``."""
    path = cache / f"key-loops-{name}-{LOOPS}.pickle" if cache else None
    if path and path.exists():
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own cache file
    if name == "synth":
        clips = synth_loops(LOOPS)
    else:
        clips = music_loops(next(s for s in render.SOUNDFONTS if s.name == name), LOOPS)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps(clips))
    return clips
