"""Matched renders: seconds of render time per second of audio, stretch and pitch.

A 14 s stereo 44.1 kHz drum loop (100 BPM) and music loop (A minor, 100 BPM)
are rendered through ``studio.rendering.render_file`` as the worker does
(decode, Rubber Band's R3 "fine" engine, 24-bit WAV): stretched to 120 BPM,
shifted +3 semitones, and both at once. Beside them, in the same run, the
same files go through the same path with no change (decode and write only,
the floor) and through Rubber Band's faster R2 engine, for the ratios.
Each figure is the median of three wall-clock runs (the rubberband process
included).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyrubberband
import soundfile as sf

from studio import rendering
from studio.matching import Plan

RUNS = 3
SR = 44100


def _loops(folder: Path) -> dict[str, tuple[Path, float]]:
    from tests import audio

    drums = audio.drum_loop(100, bars=6)
    music = audio.progression(57, minor=True, bpm=100, bars=6)
    out = {}
    for name, mono in (("drum loop", drums), ("music loop", music)):
        stereo = np.stack([mono, np.roll(mono, 64)], axis=1)
        path = folder / f"{name.replace(' ', '_')}.wav"
        sf.write(str(path), stereo, SR, subtype="PCM_24")
        out[name] = (path, mono.size / SR)
    return out


def _median_seconds(render) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        render()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _fast_engine(source: Path, target: Path, plan: Plan) -> None:
    """The same work with Rubber Band's default R2 engine (no ``--fine``)."""
    data, rate = sf.read(str(source), dtype="float32", always_2d=True)
    if plan.semitones:
        options = {"--tempo": plan.tempo_ratio}
        out = pyrubberband.pitch_shift(data, rate, plan.semitones, rbargs=options)
    else:
        out = pyrubberband.time_stretch(data, rate, plan.tempo_ratio)
    sf.write(str(target), out, rate, subtype="PCM_24")


def run() -> Iterator[str]:
    plans = {
        "stretch 100->120 BPM": Plan(tempo_ratio=1.2),
        "pitch +3 semitones": Plan(semitones=3),
        "stretch + pitch": Plan(tempo_ratio=1.2, semitones=3),
    }
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        folder = Path(tmp)
        target = folder / "out.wav"
        for loop, (path, seconds) in _loops(folder).items():
            floor = _median_seconds(
                lambda path=path: rendering.render_file(path, target, Plan(), fmt="wav")
            )
            yield (
                f"{loop} ({seconds:.0f} s stereo): decode + write only "
                f"{floor / seconds * 1000:.1f} ms per s of audio"
            )
            for label, plan in plans.items():
                fine = _median_seconds(
                    lambda path=path, plan=plan: rendering.render_file(
                        path, target, plan, fmt="wav"
                    )
                )
                fast = _median_seconds(
                    lambda path=path, plan=plan: _fast_engine(path, target, plan)
                )
                yield (
                    f"{loop}, {label}: {fine / seconds * 1000:.0f} ms per s of audio "
                    f"({seconds / fine:.1f}x real time; {fine / floor:.1f}x the decode+write "
                    f"floor; R2 fast engine {fast / seconds * 1000:.0f} ms/s, "
                    f"R3 costs {fine / fast:.1f}x R2)"
                )
