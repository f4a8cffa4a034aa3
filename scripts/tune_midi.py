"""Tune studio.midi's decoding thresholds on bass and lead lines rendered here.

Run: .venv/bin/python scripts/tune_midi.py  (needs fluidsynth and the train-deps soundfonts)

Lines are random (seeded) monophonic phrases rendered with FluidR3 and MuseScore
General; TimGM6mb, which the tests use, is kept out so the accuracy test checks
settings that never saw its sounds. A note counts as found when a transcribed
note has its pitch and starts within 50 ms of it.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from library.analysis.training.midi import Note as MidiNote  # noqa: E402
from library.analysis.training.midi import Program  # noqa: E402
from library.analysis.training.render import SR, fluidsynth  # noqa: E402
from studio import midi  # noqa: E402

SOUNDFONTS = {
    "fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "musescore": "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
}
BASS_PROGRAMS = (33, 34, 38, 39)  # finger, pick, synth bass 1 and 2
LEAD_PROGRAMS = (80, 81, 73, 65)  # square, saw, flute, alto sax
MINOR = (0, 2, 3, 5, 7, 8, 10)


def random_line(rng: np.random.Generator, *, low: int, bpm: float, bars: int = 4) -> list:
    """A monophonic phrase on a 16th grid in a minor scale from ``low``."""
    step = 60.0 / bpm / 4
    pitches = [low + 12 * octave + degree for octave in (0, 1) for degree in MINOR]
    t, notes = 0.2, []
    end = 0.2 + bars * 16 * step
    while t < end - step:
        steps = int(rng.choice([1, 2, 2, 3, 4]))
        if rng.random() < 0.15:  # a rest
            t += steps * step
            continue
        length = steps * step * float(rng.choice([0.5, 0.9, 1.0]))
        velocity = int(rng.integers(70, 120))
        notes.append(MidiNote(t, length, int(rng.choice(pitches)), velocity))
        t += steps * step
    return notes


def score(reference: list, found: list[midi.Note], tolerance: float = 0.05):
    """(matched, reference count, found count, onset errors of matches in seconds)."""
    free = list(found)
    errors = []
    for ref in reference:
        best = None
        for cand in free:
            delta = abs(cand.start - ref.start)
            if cand.pitch == ref.pitch and delta <= tolerance:
                if best is None or delta < abs(best.start - ref.start):
                    best = cand
        if best is not None:
            free.remove(best)
            errors.append(best.start - ref.start)
    return len(errors), len(reference), len(found), errors


def rendered_set():
    rng = np.random.default_rng(7)
    cases = []
    for name, path in SOUNDFONTS.items():
        for kind, programs, low in (("bass", BASS_PROGRAMS, 28), ("lead", LEAD_PROGRAMS, 62)):
            for program in programs:
                bpm = float(rng.integers(85, 140))
                notes = random_line(rng, low=low + int(rng.integers(0, 5)), bpm=bpm)
                audio = fluidsynth(path, notes, [Program(0.0, 0, 0, program)])
                cases.append((f"{name}/{kind}/{program}", notes, audio))
    return cases


def main() -> None:
    cases = rendered_set()
    seconds = sum(a.shape[0] for *_, a in cases) / SR
    started = time.monotonic()
    acts = [midi.activations(np.asarray(a, np.float32)) for *_, a in cases]
    took = time.monotonic() - started
    print(f"{len(cases)} lines, {seconds:.0f} s of audio; model {took / seconds * 1000:.1f} ms/s")
    grid = itertools.product((0.3, 0.4, 0.5, 0.6), (0.2, 0.3, 0.4), (0.058, 0.09, 0.1277))
    results = []
    for onset, frame, min_len in grid:
        settings = midi.Settings(onset, frame, min_len)
        matched = refs = found = 0
        for (_, notes, _), (frames, onsets) in zip(cases, acts, strict=True):
            times = midi.frame_times(frames.shape[0])
            events = midi.decode_notes(frames, onsets, settings)
            est = midi.monophonic(midi.events_to_notes(events, times))
            m, r, f, _ = score(notes, est)
            matched, refs, found = matched + m, refs + r, found + f
        recall, precision = matched / refs, matched / max(found, 1)
        results.append((recall, precision, settings))
    for recall, precision, s in sorted(results, key=lambda r: -(r[0] + r[1]))[:8]:
        print(f"recall {recall:.3f} precision {precision:.3f}  {s}")
    best = max(results, key=lambda r: r[0] + r[1])[2]
    print("per line with", best)
    for (label, notes, _), (frames, onsets) in zip(cases, acts, strict=True):
        times = midi.frame_times(frames.shape[0])
        est = midi.monophonic(midi.events_to_notes(midi.decode_notes(frames, onsets, best), times))
        m, r, f, errors = score(notes, est)
        mean_ms = 1000 * float(np.mean(np.abs(errors))) if errors else float("nan")
        print(f"  {label:22s} {m}/{r} found, {f} transcribed, mean |onset error| {mean_ms:.1f} ms")


if __name__ == "__main__":
    main()
