"""Near-duplicates: precision and recall of the upload check, and its time per 1,000 samples.

The corpus is rendered with fluidsynth from Debian's soundfonts (never the
reserved hydrogen, sonic-pi, lmms or avldrums sets): every GM drum note of
TimGM6mb's standard kit (GPL-2), melodic notes of a dozen of its programs
and two-bar drum loops, plus the standard kits of FluidR3 (MIT) and csound
(LGPL-2.1+), whose hits are other recordings of the same drums: other takes
of every kick, snare and hat. Each original gets three copies of the kinds
a producer's folders are full of: re-encoded (Ogg Vorbis, MP3), trimmed (the
tail cut to 60-90 %, the first 1-8 ms cut), padded with silence, 3 to 6 dB
louder or quieter, resampled (48 and 22.05 kHz), made stereo, and two of
these at once. The files are then "uploaded" one after another in a shuffled
order, each checked against the ones before it by the product's rule
(``organise.matching``: nearest sketches, then the exact distance). A flag
is right when it names a copy of the same original; recall counts the files
that had an earlier copy. Flagging another take or another kit piece costs
precision.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from library.analysis.training import labels
from library.analysis.training.midi import DRUM_CHANNEL, Note, Program, midi_bytes
from organise import fingerprint as fp
from organise.matching import SketchIndex

SR = 44100
TIMGM6MB = "/usr/share/sounds/sf2/TimGM6mb.sf2"
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
CSOUND = "/usr/share/sounds/sf2/sf_GMbank.sf2"
MELODIC = (0, 4, 11, 19, 33, 38, 48, 52, 62, 73, 81, 89)  # piano .. pad
SEED = 19


@dataclass
class Original:
    key: str  # what it is: kit/note/velocity or program/pitch/velocity
    audio: np.ndarray  # mono float32 at SR


@dataclass
class Item:
    group: int  # index of its original
    path: Path
    transform: str


def _render(soundfont: str, notes: list[Note], programs: list[Program]) -> np.ndarray:
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


def _trim(x: np.ndarray) -> np.ndarray:
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak == 0.0:
        return x[:0]
    loud = np.flatnonzero(np.abs(x) > peak * 1e-3)
    return x[loud[0] : loud[-1] + 1]


def _waveform_likeness(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two renders' waveforms are below 5 kHz over their first 0.2 s (0..1).

    The truth, taken from the waveforms, not from the fingerprint: both start
    at their onset; the best correlation within a few samples' shift counts.
    """
    n = min(a.size, b.size, int(0.2 * SR))
    x, y = soxr.resample(a[:n], SR, 10000), soxr.resample(b[:n], SR, 10000)
    best = 0.0
    for lag in range(-4, 5):
        xx = x[max(lag, 0) : x.size + min(lag, 0)]
        yy = y[max(-lag, 0) : y.size + min(-lag, 0)]
        best = max(best, float(np.dot(xx, yy) / (np.linalg.norm(xx) * np.linalg.norm(yy) + 1e-12)))
    return best


def _drum_hits(
    kits: tuple[int, ...], velocities: tuple[int, ...], t: float, notes, programs, spans, keys, tag
):
    for kit in kits:
        programs.append(Program(t, DRUM_CHANNEL, 0, kit))
        t += 0.1
        for note in labels.DRUM_NOTES:
            for velocity in velocities:
                notes.append(Note(t, 0.2, note, velocity, DRUM_CHANNEL))
                spans.append((t, t + 2.4))
                keys.append(f"{tag}/kit{kit}/note{note}/v{velocity}")
                t += 2.6
    return t


def _pieces(audio: np.ndarray, spans, keys, earlier: list[Original] = ()) -> list[Original]:
    originals: list[Original] = []
    for key, (start, end) in zip(keys, spans, strict=True):
        piece = _trim(audio[int(start * SR) : int(end * SR)]).astype(np.float32)
        if piece.size < SR * 0.02:
            continue
        # A kit reusing a recording (> 0.99: the same sound at another level) or a
        # velocity that only filters it (> 0.9) is neither a copy nor another take.
        if any(_waveform_likeness(piece, o.audio) > 0.9 for o in [*earlier, *originals]):
            continue
        originals.append(Original(key, piece))
    return originals


def render_originals() -> list[Original]:
    """TimGM6mb's standard kit, notes and loops; FluidR3's and csound's standard kits.

    The other soundfonts' kits are other recordings of the same drums: other
    takes. Velocities are not: none of these soundfonts has velocity layers
    in its drum kits (their SF2 zones map a soft and a hard hit to one
    sample), so a softer render is the same recording quieter and, below
    velocity 64, low-passed; TimGM6mb's other kits likewise reuse the
    standard kit's recordings. Both are left out rather than called copies
    or takes, as is MuseScore General, which is FluidR3's recordings again.
    """
    notes, programs, spans, keys = [], [], [], []
    t = _drum_hits((0,), (100,), 0.0, notes, programs, spans, keys, "timgm6mb")
    for program in MELODIC:
        programs.append(Program(t, 0, 0, program))
        t += 0.1
        for pitch in (40, 52, 64):
            notes.append(Note(t, 0.8, pitch, 100, 0))
            spans.append((t, t + 2.4))
            keys.append(f"timgm6mb/prog{program}/pitch{pitch}")
            t += 2.6
    rng = np.random.default_rng(SEED)
    for loop in range(8):  # two bars at 100..130 BPM, kick/snare/hats with varied velocities
        beat = 60.0 / int(rng.integers(100, 131))
        programs.append(Program(t, DRUM_CHANNEL, 0, 0))
        t += 0.1
        start = t
        for step in range(16):
            at = t + step * beat / 2
            notes.append(Note(at, 0.1, 42, int(rng.integers(60, 110)), DRUM_CHANNEL))
            if step % 4 == 0 or rng.random() < 0.15:
                notes.append(Note(at, 0.1, 36, 120, DRUM_CHANNEL))
            if step % 4 == 2:
                notes.append(Note(at, 0.1, 38, int(rng.integers(90, 128)), DRUM_CHANNEL))
        t += 8 * beat + 2.0
        spans.append((start, start + 8 * beat + 0.5))
        keys.append(f"timgm6mb/loop{loop}")
    originals = _pieces(_render(TIMGM6MB, notes, programs), spans, keys)
    for name, soundfont in (("fluidr3", FLUIDR3), ("csound", CSOUND)):
        notes, programs, spans, keys = [], [], [], []
        _drum_hits((0,), (100,), 0.0, notes, programs, spans, keys, name)
        originals += _pieces(_render(soundfont, notes, programs), spans, keys, originals)
    return originals


def _write(path: Path, x: np.ndarray, rate: int, fmt: str = "WAV") -> Path:
    subtype = {"WAV": "PCM_16", "OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}[fmt]
    sf.write(path, np.clip(x, -1, 1), rate, format=fmt, subtype=subtype)
    return path


TRANSFORMS = ("ogg", "mp3", "gain", "trim_tail", "trim_start", "pad", "resample", "stereo")


def _transform(x: np.ndarray, name: str, rng: np.random.Generator) -> tuple[np.ndarray, int, str]:
    """One copy of ``x``: (audio, rate, container)."""
    if name == "ogg":
        return x, SR, "OGG"
    if name == "mp3":
        return x, SR, "MP3"
    if name == "gain":
        db = float(rng.choice([-6.0, -3.0, 3.0]))
        return x * 10 ** (db / 20), SR, "WAV"
    if name == "trim_tail":
        keep = int(x.size * rng.uniform(0.6, 0.9))
        fade = np.linspace(1.0, 0.0, min(keep, int(0.01 * SR)), dtype=np.float32)
        y = x[:keep].copy()
        y[-fade.size :] *= fade
        return y, SR, "WAV"
    if name == "trim_start":  # a tightened start: the first milliseconds of the attack
        return x[int(rng.uniform(0.001, 0.008) * SR) :], SR, "WAV"
    if name == "pad":
        before = np.zeros(int(rng.uniform(0.05, 0.5) * SR), dtype=np.float32)
        after = np.zeros(int(rng.uniform(0.0, 1.0) * SR), dtype=np.float32)
        return np.concatenate([before, x, after]), SR, "WAV"
    if name == "resample":
        rate = int(rng.choice([48000, 22050]))
        return soxr.resample(x, SR, rate).astype(np.float32), rate, "WAV"
    if name == "stereo":
        pan = float(rng.uniform(0.3, 0.7))
        return np.stack([x * (1 - pan) * 2, x * pan * 2], axis=1), SR, "WAV"
    raise ValueError(name)


def build_corpus(folder: Path, originals: list[Original], copies: int = 3) -> list[Item]:
    rng = np.random.default_rng(SEED)
    items = []
    for group, original in enumerate(originals):
        items.append(
            Item(group, _write(folder / f"{group}_orig.wav", original.audio, SR), "original")
        )
        for n in range(copies):
            names = list(rng.choice(TRANSFORMS, size=1 if n < copies - 1 else 2, replace=False))
            names.sort(key=lambda name: name == "stereo")  # the channels are split last
            x, rate, container = original.audio, SR, "WAV"
            for name in names:
                x, rate_, container_ = _transform(x, name, rng)
                rate = rate_ if name == "resample" else rate
                container = container_ if name in ("ogg", "mp3") else container
            suffix = container.lower()
            path = folder / f"{group}_{n}.{suffix}"
            items.append(Item(group, _write(path, x, rate, container), "+".join(names)))
    return items


def evaluate(items: list[Item], prints: list[fp.Fingerprint], order: np.ndarray) -> dict:
    index = SketchIndex()
    flagged = right = should = 0
    seen_groups: set[int] = set()
    misses: list[str] = []
    wrong: list[str] = []
    for i in order:
        item = items[i]
        match = index.nearest_duplicate(prints[i])
        had_copy = item.group in seen_groups
        should += had_copy
        if match is not None:
            flagged += 1
            if items[match].group == item.group:
                right += 1
            else:
                wrong.append(f"{item.path.name}~{items[match].path.name}")
        elif had_copy:
            misses.append(f"{item.path.name} ({item.transform})")
        index.add(int(i), prints[i])
        seen_groups.add(item.group)
    precision = right / flagged if flagged else 1.0
    recall = right / should if should else 1.0
    return {"precision": precision, "recall": recall, "misses": misses, "wrong": wrong}


def run() -> Iterator[str]:
    from organise.audio import fingerprint_file

    originals = render_originals()
    with tempfile.TemporaryDirectory(prefix="bench-duplicates-") as tmp:
        items = build_corpus(Path(tmp), originals)
        started = time.perf_counter()
        prints = [fingerprint_file(item.path) for item in items]
        fingerprint_seconds = time.perf_counter() - started
    order = np.random.default_rng(SEED).permutation(len(items))
    started = time.perf_counter()
    result = evaluate(items, prints, order)
    match_seconds = time.perf_counter() - started
    per_thousand = (fingerprint_seconds + match_seconds) / len(items) * 1000
    yield (
        f"{len(originals)} originals (TimGM6mb, FluidR3 and csound kits, TimGM6mb notes, loops), "
        f"{len(items)} files with their copies"
    )
    yield (
        f"precision {result['precision']:.3f} (goal >= 0.98), "
        f"recall {result['recall']:.3f} (goal >= 0.95)"
    )
    each = 1000 / len(items)
    yield (
        f"{per_thousand:.1f} s per 1,000 uploads (decode + fingerprint "
        f"{fingerprint_seconds * each:.1f} s, matching {match_seconds * each:.1f} s)"
    )
    for line in result["wrong"][:5]:
        yield f"wrong: {line}"
    for line in result["misses"][:5]:
        yield f"missed: {line}"
