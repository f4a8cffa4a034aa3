"""Drum loops and music loops sequenced as MIDI, with their tempo and key known.

Drum loops use the synthesiser's step patterns (``synth.STYLES``) on a GM kit;
music loops play a diatonic progression (``synth.PROGRESSIONS``) with a
chord instrument, a bassline and sometimes a drum part. Each loop is cut at
its bar lines, as loops in packs are.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from library.analysis.training import labels, synth
from library.analysis.training.midi import DRUM_CHANNEL, Note, Program
from library.analysis.training.render import GAP, SR, Clip

Renderer = Callable[[list[Note], list[Program]], np.ndarray]
KICK, SNARE, CLAP, CLOSED_HAT, OPEN_HAT, RIDE = 36, 38, 39, 42, 46, 51
PERCUSSION = (56, 60, 61, 62, 63, 64, 69, 70, 75, 76)


def _programs(category: str) -> list[int]:
    return [p for p in range(128) if labels.program_category(p) == category]


def drum_part(rng: np.random.Generator, style: str, bpm: float, bars: int, at: float) -> list[Note]:
    """The notes of a ``style`` groove (see ``synth.STYLES``) starting at ``at`` seconds."""
    _, kicks, snares, hats, opens, swing = synth.STYLES[style]
    beat = 60.0 / bpm
    back = CLAP if rng.random() < 0.3 else SNARE
    hat = RIDE if rng.random() < 0.15 else CLOSED_HAT
    extra = int(rng.choice(PERCUSSION)) if rng.random() < 0.4 else None
    notes = []
    for bar in range(bars):
        for step in range(16):
            t = at + max(0.0, synth.step_time(bar * 16 + step, beat, swing) + rng.normal(0, 0.004))
            if step in kicks:
                notes.append(Note(t, 0.1, KICK, int(rng.integers(100, 127)), DRUM_CHANNEL))
            if step in snares:
                notes.append(Note(t, 0.1, back, int(rng.integers(90, 120)), DRUM_CHANNEL))
            if step in hats:
                velocity = 90 if step % 4 == 0 else int(rng.integers(50, 80))
                notes.append(Note(t, 0.05, hat, velocity, DRUM_CHANNEL))
            if step in opens:
                notes.append(Note(t, 0.1, OPEN_HAT, 80, DRUM_CHANNEL))
            if extra and step % 4 == 3 and rng.random() < 0.6:
                notes.append(Note(t, 0.1, extra, int(rng.integers(60, 100)), DRUM_CHANNEL))
    return notes


def music_part(
    rng: np.random.Generator, tonic: int, mode: str, bpm: float, bars: int, at: float
) -> list[Note]:
    """Chords on channel 0, a bassline on channel 1, arpeggios on channel 2."""
    scale, progression = synth.pick_progression(rng, mode)
    beat = 60.0 / bpm
    chords_per_bar = 2 if bars == 1 or rng.random() < 0.3 else 1
    with_bass = rng.random() < 0.75
    chord_beats = 4 / chords_per_bar
    base = 48 + tonic if tonic < 7 else 36 + tonic
    style = rng.choice(["held", "stabs", "arp"])
    notes = []
    for i in range(bars * chords_per_bar):
        degree = progression[i % len(progression)]
        pcs = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        chord = [base + 12 + p - (12 if base + 12 + p > 76 else 0) for p in pcs]
        start, length = at + i * chord_beats * beat, chord_beats * beat
        if style == "held":
            notes += [Note(start, length * 0.98, n, 80, 0) for n in chord]
        elif style == "stabs":
            for j in (0, 3, 6) if rng.random() < 0.5 else (0, 2, 4, 6):
                if j / 2 < chord_beats:
                    notes += [Note(start + j * beat / 2, beat * 0.4, n, 90, 0) for n in chord]
        else:
            step = beat / 2
            for j in range(int(round(length / step))):
                notes.append(Note(start + j * step, step * 0.9, chord[j % 3] + 12, 85, 2))
                if j == 0:
                    notes += [Note(start, length * 0.98, n, 60, 0) for n in chord]
        root = base - 12 + pcs[0]
        root = root + 12 if root < 33 else root
        for b in (0, 1, 2, 3) if rng.random() < 0.5 else (0, 1.5, 2, 3.5):
            if with_bass and b < chord_beats:
                notes.append(Note(start + b * beat, beat * 0.45, root, 100, 1))
    return notes


def render_loops(source: str, render: Renderer, rng: np.random.Generator, count: int) -> list[Clip]:
    """``count`` drum loops and ``count`` music loops, one render call."""
    notes, programs, meta = [], [], []
    t = 0.0
    kits, chords, basses = labels.DRUM_KITS, _programs("keys") + _programs("pad"), _programs("bass")
    chords += _programs("synth")
    styles = list(synth.STYLES)
    for i in range(2 * count):
        style = styles[int(rng.integers(len(styles)))]
        low, high = synth.STYLES[style][0]
        drums = i < count
        bpm = float(round(rng.uniform(low, high))) if drums else float(rng.integers(70, 176))
        bars = int(rng.choice([1, 2, 2, 4]))
        if bars * 4 * 60 / bpm < 2.5:
            bars *= 2
        length = bars * 4 * 60 / bpm
        programs.append(Program(t, DRUM_CHANNEL, 0, int(rng.choice(kits))))
        tonic, mode = int(rng.integers(12)), str(rng.choice(["major", "minor"]))
        if drums:
            notes += drum_part(rng, style, bpm, bars, t + 0.1)
        else:
            for channel, choices in ((0, chords), (1, basses), (2, _programs("synth"))):
                programs.append(Program(t, channel, 0, int(rng.choice(choices))))
            notes += music_part(rng, tonic, mode, bpm, bars, t + 0.1)
            if rng.random() < 0.3:
                notes += drum_part(rng, style, bpm, bars, t + 0.1)
        meta.append((t + 0.1, length, drums, bpm, tonic, mode))
        t += 0.1 + length + GAP
    audio = render(notes, programs)
    clips = []
    for start, length, drums, bpm, tonic, mode in meta:
        piece = audio[int(start * SR) : int(start * SR) + int(round(length * SR))]
        if not drums:
            clips.append(Clip(source, "music_loop", piece, True, bpm, tonic, mode))
        else:
            clips.append(Clip(source, "drum_loop", piece, True, bpm))
    return clips
