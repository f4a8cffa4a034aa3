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
    "csound": "/usr/share/sounds/sf2/sf_GMbank.sf2",
    "opl3": "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2",
}
# Acoustic, finger, pick, fretless, synth bass 1 and 2; square, saw, flute, alto sax, trumpet.
BASS_PROGRAMS = (32, 33, 34, 35, 38, 39)
LEAD_PROGRAMS = (80, 81, 73, 65, 56)
MINOR = (0, 2, 3, 5, 7, 8, 10)
GAP = 2.0  # seconds between lines in one render


def random_line(rng: np.random.Generator, *, low: int, bpm: float, bars: int = 4) -> list:
    """A monophonic phrase on a 16th grid in a minor scale from ``low``, 16ths often."""
    step = 60.0 / bpm / 4
    pitches = [low + 12 * octave + degree for octave in (0, 1) for degree in MINOR]
    t, notes = 0.2, []
    end = 0.2 + bars * 16 * step
    while t < end - step:
        steps = int(rng.choice([1, 1, 2, 2, 3, 4]))
        if rng.random() < 0.15:  # a rest
            t += steps * step
            continue
        length = steps * step * float(rng.choice([0.5, 0.8, 1.0]))
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
    """(label, notes, audio) for every program of every soundfont: one fluidsynth run per
    soundfont, each line on a channel of its own, then cut apart."""
    rng = np.random.default_rng(7)
    cases = []
    for name, path in SOUNDFONTS.items():
        lines, notes, programs, offset = [], [], [], 0.0
        kinds = [("bass", p, 28) for p in BASS_PROGRAMS] + [("lead", p, 62) for p in LEAD_PROGRAMS]
        for channel, (kind, program, low) in enumerate(kinds):
            channel += channel >= 9  # skip the drum channel
            bpm = float(rng.integers(85, 140))
            line = random_line(rng, low=low + int(rng.integers(0, 5)), bpm=bpm)
            programs.append(Program(0.0, channel, 0, program))
            notes += [
                MidiNote(n.start + offset, n.length, n.pitch, n.velocity, channel) for n in line
            ]
            lines.append((f"{name}/{kind}/{program}", line, offset))
            offset += max(n.start + n.length for n in line) + GAP
        audio = fluidsynth(path, notes, programs)
        for label, line, start in lines:
            length = max(n.start + n.length for n in line) + GAP / 2
            piece = audio[int(start * SR) : int((start + length) * SR)]
            cases.append((label, line, np.asarray(piece, np.float32)))
    return cases


def candidates() -> list[midi.Settings]:
    """Basic Pitch's own decoder over its thresholds, and the line decoder over its own."""
    notes = [
        midi.Settings(onset, frame, min_len)
        for onset, frame, min_len in itertools.product(
            (0.3, 0.4, 0.5, 0.6, 0.7), (0.3, 0.4, 0.5), (0.03, 0.045, 0.058, 0.09)
        )
    ]
    lines = [
        midi.Settings(
            frame_threshold=frame,
            min_note_seconds=min_len,
            line=True,
            split_threshold=split,
            snap_frames=snap,
            weak_threshold=weak,
        )
        for frame, split, min_len, snap, weak in itertools.product(
            (0.2, 0.3, 0.4, 0.5),
            (0.3, 0.5, 0.7),
            (0.03, 0.045, 0.058),
            (2, 4, 6),
            (None, 0.1, 0.15),
        )
        if weak is None or weak < frame
    ]
    return notes + lines


def tune(cases, acts) -> midi.Settings:
    """The settings with the best F1 over ``cases``; prints the leaders and each line."""
    results = []
    for settings in candidates():
        decode = midi.decode_line if settings.line else midi.decode_notes
        matched = refs = found = 0
        for (_, notes, _), (frames, onsets) in zip(cases, acts, strict=True):
            times = midi.frame_times(frames.shape[0])
            events = decode(frames, onsets, settings)
            est = midi.monophonic(midi.events_to_notes(events, times))
            m, r, f, _ = score(notes, est)
            matched, refs, found = matched + m, refs + r, found + f
        recall, precision = matched / refs, matched / max(found, 1)
        f1 = 2 * recall * precision / max(recall + precision, 1e-9)
        results.append((f1, recall, precision, settings))
    # Missed notes and extra notes both cost a producer an edit: rank by F1.
    results.sort(key=lambda r: -r[0])
    for line in (False, True):
        print("line decoder:" if line else "Basic Pitch's decoder:")
        for f1, recall, precision, s in [r for r in results if r[3].line == line][:4]:
            print(f"  F1 {f1:.3f} recall {recall:.3f} precision {precision:.3f}  {s}")
    best = results[0][3]
    decode = midi.decode_line if best.line else midi.decode_notes
    print("per line with", best)
    for (label, notes, _), (frames, onsets) in zip(cases, acts, strict=True):
        times = midi.frame_times(frames.shape[0])
        est = midi.monophonic(midi.events_to_notes(decode(frames, onsets, best), times))
        m, r, f, errors = score(notes, est)
        mean_ms = 1000 * float(np.mean(np.abs(errors))) if errors else float("nan")
        signed_ms = 1000 * float(np.mean(errors)) if errors else float("nan")
        print(
            f"  {label:22s} {m}/{r} found, {f} transcribed, onset error mean |{mean_ms:.1f}| ms, "
            f"signed {signed_ms:+.1f} ms"
        )
    return best


def main() -> None:
    cases = rendered_set()
    seconds = sum(a.shape[0] for *_, a in cases) / SR
    started = time.monotonic()
    acts = [midi.activations(np.asarray(a, np.float32)) for *_, a in cases]
    took = time.monotonic() - started
    print(f"{len(cases)} lines, {seconds:.0f} s of audio; model {took / seconds * 1000:.1f} ms/s")
    for kind in ("bass", "lead"):
        print(f"{kind} lines:")
        chosen = [i for i, (label, *_) in enumerate(cases) if f"/{kind}/" in label]
        tune([cases[i] for i in chosen], [acts[i] for i in chosen])


if __name__ == "__main__":
    main()
