"""Key and tempo of music loops as a producer would write them on the file.

The loops are synthesised here: an eighth-note arpeggio of each bar's chord
over a bass on every beat. Before the key scorer and the tempo chooser were
learned, a ii-V-I loop was read in the key of its V and slow arpeggiated
loops at double tempo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from library.analysis import analyze_file
from tests import audio

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


def _note(midi: int, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * audio.SR)) / audio.SR
    f = audio.midi_hz(midi)
    x = sum(np.sin(2 * np.pi * f * h * t) / h**1.3 for h in (1, 2, 3, 4))
    return x * np.exp(-t * 4) * np.minimum(1.0, t / 0.004)


def arpeggio_loop(tonic: int, minor: bool, bpm: float, degrees: tuple[int, ...]) -> np.ndarray:
    """One bar per scale degree in ``degrees``: its triad arpeggiated in eighths over the
    root on every beat, in the key of MIDI note ``tonic``; cut at the bar lines."""
    scale = MINOR if minor else MAJOR
    beat = 60.0 / bpm
    out = np.zeros(int(round(len(degrees) * 4 * beat * audio.SR)))

    def place(x: np.ndarray, at: float, gain: float) -> None:
        start = int(at * audio.SR)
        end = min(out.size, start + x.size)
        out[start:end] += gain * x[: end - start]

    for bar, degree in enumerate(degrees):
        triad = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        for step in range(8):
            pitch = tonic + 12 + triad[step % 3] + (12 if step % 4 == 3 else 0)
            place(_note(pitch, beat * 0.5), (bar * 4 + step / 2) * beat, 0.5)
        for b in range(4):
            place(_note(tonic - 12 + triad[0], beat * 0.9), (bar * 4 + b) * beat, 0.8)
    return (0.8 * out / np.abs(out).max()).astype(np.float32)


def test_a_loop_that_opens_on_ii_v_is_in_the_key_it_resolves_to(tmp_path: Path):
    # Bm, E, A, A: A major (read as E major, its V, before).
    path = audio.write(tmp_path / "loop.wav", arpeggio_loop(69, False, 100, (1, 4, 0, 0)))
    result = analyze_file(path)
    assert (result["key"], result["mode"]) == ("A", "major")
    assert result["key_confidence"] > 0.3


@pytest.mark.parametrize(("tonic", "name"), [(60, "C"), (63, "D#"), (66, "F#")])
def test_the_same_loop_transposed_is_read_transposed(tmp_path: Path, tonic: int, name: str):
    path = audio.write(tmp_path / "loop.wav", arpeggio_loop(tonic, False, 96, (0, 4, 5, 3)))
    result = analyze_file(path)
    assert (result["key"], result["mode"]) == (name, "major")


@pytest.mark.parametrize(
    ("bpm", "minor", "degrees"),
    [(78, True, (0, 5, 2, 6)), (84, False, (0, 3, 4, 0)), (150, True, (0, 5, 3, 4))],
)
def test_arpeggiated_loops_keep_their_own_tempo(tmp_path: Path, bpm, minor, degrees):
    # Eighth-note arpeggios pulse at twice the tempo; 78 and 84 BPM were read at double.
    path = audio.write(tmp_path / "loop.wav", arpeggio_loop(57, minor, bpm, degrees))
    result = analyze_file(path)
    assert result["is_loop"]
    assert result["bpm"] == pytest.approx(bpm, rel=0.04)


def held_chords_loop(tonic: int, bpm: float, degrees: tuple[int, ...]) -> np.ndarray:
    """One held major triad per bar (no bass, no drums: nothing pulses), cut at the bar
    lines with a short fade in and out of each chord."""
    beat = 60.0 / bpm
    bar = int(round(4 * beat * audio.SR))
    parts = []
    for degree in degrees:
        triad = [MAJOR[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        t = np.arange(bar) / audio.SR
        x = sum(
            np.sin(2 * np.pi * audio.midi_hz(tonic + pc) * h * t) / h
            for pc in triad
            for h in (1, 2, 3)
        )
        parts.append(x * np.minimum(1.0, t / 0.01) * np.minimum(1.0, (t[-1] - t) / 0.01))
    out = np.concatenate(parts)
    return (0.8 * out / np.abs(out).max()).astype(np.float32)


def test_a_loop_of_held_chords_gets_the_tempo_its_length_implies(tmp_path: Path):
    # Two bars of held chords at 140 BPM: no pulse to hear, but a loop cut at its bar
    # lines is two bars long at 140 (one bar at 70 is the less usual reading).
    path = audio.write(tmp_path / "Strings Loop.wav", held_chords_loop(60, 140, (0, 4)))
    result = analyze_file(path)
    assert result["is_loop"]
    assert result["bpm"] == pytest.approx(140, rel=0.04)
    assert result["bpm_confidence"] <= 0.15  # read from the length, not heard


def test_tempo_from_length_counts_whole_bars_at_a_usual_tempo():
    from library.analysis.rhythm import tempo_from_length

    assert tempo_from_length(8.0).bpm == pytest.approx(120)  # 4 bars, not 2 at 60
    assert tempo_from_length(60 * 4 * 2 / 92).bpm == pytest.approx(92)  # 2 bars
    assert tempo_from_length(0.5).bpm is None  # a quarter of a bar at 240 BPM is no loop


def test_a_music_loop_under_loud_drums_keeps_its_key(tmp_path: Path):
    # Quiet chords under a drum loop: the classifier calls it a drum loop but gives a
    # music loop real odds, so the chords' key is still read (a plain drum loop gets none,
    # see test_analysis).
    drums = audio.drum_loop(100, bars=2)
    chords = audio.progression(57, minor=True, bpm=100, bars=2)
    n = min(drums.size, chords.size)
    mix = drums[:n] + 0.1 * chords[:n]
    path = audio.write(tmp_path / "take.wav", (0.8 * mix / np.abs(mix).max()).astype(np.float32))
    result = analyze_file(path, embedding=False)
    assert result["category"] == "drum_loop"
    assert (result["key"], result["mode"]) == ("A", "minor")
