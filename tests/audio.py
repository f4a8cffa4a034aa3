"""Synthesised audio for tests: tones, drums, loops at known tempos, chords in known keys.

Everything is generated on the fly into a temporary folder; no audio is committed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 44100
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FORMATS = {
    "wav": {"format": "WAV", "subtype": "PCM_16"},
    "aiff": {"format": "AIFF", "subtype": "PCM_16"},
    "flac": {"format": "FLAC", "subtype": "PCM_16"},
    "ogg": {"format": "OGG", "subtype": "VORBIS"},
    "mp3": {"format": "MP3", "subtype": "MPEG_LAYER_III"},
}


def midi_hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def tone(freq: float = 440.0, seconds: float = 1.0, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    return (amp * np.sin(2 * np.pi * freq * t) * fade).astype(np.float32)


def kick(sr: int = SR, seconds: float = 0.5) -> np.ndarray:
    """A sine sweep from 150 Hz to 45 Hz with a fast exponential decay."""
    t = np.arange(int(seconds * sr)) / sr
    freq = 45 + 105 * np.exp(-t * 25)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    return (0.9 * np.sin(phase) * np.exp(-t * 8)).astype(np.float32)


def snare(sr: int = SR, seconds: float = 0.3, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    noise = np.random.default_rng(seed).uniform(-1, 1, t.size)
    body = np.sin(2 * np.pi * 190 * t) * np.exp(-t * 30)
    return (0.6 * (noise * np.exp(-t * 18) + 0.5 * body)).astype(np.float32)


def hihat(sr: int = SR, seconds: float = 0.12, seed: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    noise = np.random.default_rng(seed).uniform(-1, 1, t.size)
    bright = np.diff(noise, prepend=0.0)  # first difference: a crude high-pass
    return (0.4 * bright * np.exp(-t * 60)).astype(np.float32)


def drum_loop(bpm: float, bars: int = 2, sr: int = SR) -> np.ndarray:
    """Kick on 1 and 3, snare on 2 and 4, eighth-note hats, in 4/4."""
    beat = 60.0 / bpm
    total = int(bars * 4 * beat * sr)
    out = np.zeros(total, dtype=np.float32)

    def place(sound: np.ndarray, at: float) -> None:
        start = int(at * sr)
        end = min(total, start + sound.size)
        out[start:end] += sound[: end - start]

    for bar in range(bars):
        for step in range(8):
            at = (bar * 4 + step / 2) * beat
            place(hihat(sr), at)
            if step in (0, 4):
                place(kick(sr), at)
            if step in (2, 6):
                place(snare(sr), at)
    return np.clip(out, -1, 1)


def chord(root: int, minor: bool = False, seconds: float = 2.0, sr: int = SR) -> np.ndarray:
    """A triad on MIDI note ``root`` with a few harmonics per note."""
    third = 3 if minor else 4
    notes = (root, root + third, root + 7, root + 12)
    out = sum(tone(midi_hz(n) * h, seconds, sr, amp=0.2 / h) for n in notes for h in (1, 2, 3))
    return (out / np.max(np.abs(out)) * 0.7).astype(np.float32)


def noise(seconds: float = 1.0, sr: int = SR, seed: int = 2) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).uniform(-1, 1, int(seconds * sr))).astype(np.float32)


def write(path: Path, samples: np.ndarray, sr: int = SR, fmt: str | None = None) -> Path:
    """Write ``samples`` as the format named by the file's extension (or ``fmt``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = FORMATS[fmt or path.suffix.lstrip(".").lower()]
    sf.write(str(path), samples, sr, **options)
    return path


def kick_variant(
    start_hz: float = 150.0, end_hz: float = 45.0, decay: float = 8.0, seconds: float = 0.5
) -> np.ndarray:
    """A kick with its sweep and decay chosen: for families of similar kicks."""
    t = np.arange(int(seconds * SR)) / SR
    freq = end_hz + (start_hz - end_hz) * np.exp(-t * 25)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    return (0.9 * np.sin(phase) * np.exp(-t * decay)).astype(np.float32)


def clap(seed: int = 3, seconds: float = 0.35) -> np.ndarray:
    """Three quick noise bursts and a short tail, band-limited like a hand clap."""
    from scipy.signal import butter, sosfilt

    t = np.arange(int(seconds * SR)) / SR
    noise = np.random.default_rng(seed).uniform(-1, 1, t.size)
    noise = sosfilt(butter(2, [900, 3000], btype="band", fs=SR, output="sos"), noise)
    env = 0.5 * np.exp(-t * 15)
    for i in range(3):
        start = int(i * 0.011 * SR)
        env[start:] += np.exp(-t[: t.size - start] * 200)
    out = noise * env
    return (0.8 * out / np.max(np.abs(out))).astype(np.float32)


def pad(root: int = 57, minor: bool = False, seconds: float = 4.0, sr: int = SR) -> np.ndarray:
    """A sustained chord with a slow (0.8 s) attack and release."""
    t = np.arange(int(seconds * sr)) / sr
    third = 3 if minor else 4
    out = np.zeros(t.size)
    for note in (root, root + third, root + 7, root + 12):
        for detune in (0.997, 1.003):
            f = midi_hz(note) * detune
            out += sum(np.sin(2 * np.pi * f * h * t) / h for h in (1, 2, 3, 4))
    env = np.minimum(1.0, t / 0.8) * np.minimum(1.0, (t[-1] - t) / 0.8)
    out *= env
    return (0.7 * out / np.max(np.abs(out))).astype(np.float32)


def progression(
    tonic: int, minor: bool = False, bpm: float = 100.0, bars: int = 4, sr: int = SR
) -> np.ndarray:
    """A loop in the key of MIDI note ``tonic``: one chord per bar, struck on every beat,
    over a bass on the chord's root. Major: I-V-vi-IV; minor: i-VI-III-VII."""
    scale = (0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11)
    degrees = (0, 5, 2, 6) if minor else (0, 4, 5, 3)
    beat = 60.0 / bpm
    total = int(round(bars * 4 * beat * sr))
    out = np.zeros(total)
    t = np.arange(int(beat * sr)) / sr
    for bar in range(bars):
        degree = degrees[bar % 4]
        triad = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        for step in range(4):
            start = int((bar * 4 + step) * beat * sr)
            hit = np.zeros(t.size)
            for pc in triad:
                f = midi_hz(tonic + 12 + pc)
                hit += sum(np.sin(2 * np.pi * f * h * t) / h**1.5 for h in (1, 2, 3))
            bass_f = midi_hz(tonic - 12 + triad[0])
            hit += 1.5 * sum(np.sin(2 * np.pi * bass_f * h * t) / h for h in (1, 2))
            hit *= np.exp(-t * 3.0) * np.minimum(1.0, t / 0.005)
            end = min(total, start + t.size)
            out[start:end] += hit[: end - start]
    return (0.8 * out / np.max(np.abs(out))).astype(np.float32)
