"""Synthesised drums, notes, pads, effects and loops: a training source and the benchmark corpus.

Everything is made at ``SR`` (44.1 kHz) from oscillators, filtered noise and
envelopes, with a ``numpy`` generator for every random choice, so a seed
gives the same sounds on every machine.
"""

from __future__ import annotations

import numpy as np

SR = 44100


def midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SR)) / SR


def _lowpass(x: np.ndarray, cutoff: float, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    sos = butter(order, min(cutoff, SR * 0.45), fs=SR, output="sos")
    return sosfilt(sos, x)


def _highpass(x: np.ndarray, cutoff: float, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(order, cutoff, btype="high", fs=SR, output="sos"), x)


def _bandpass(x: np.ndarray, low: float, high: float) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(2, [low, high], btype="band", fs=SR, output="sos"), x)


def _saw(freq: float, t: np.ndarray, phase: float = 0.0) -> np.ndarray:
    return 2.0 * ((freq * t + phase) % 1.0) - 1.0


def _pulse(freq: float, t: np.ndarray, width: float = 0.5) -> np.ndarray:
    return np.where((freq * t) % 1.0 < width, 1.0, -1.0)


def _fade(x: np.ndarray, seconds: float = 0.005) -> np.ndarray:
    n = min(x.size // 2, int(seconds * SR))
    if n:
        ramp = np.linspace(0, 1, n)
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x


def kick(rng: np.random.Generator) -> np.ndarray:
    seconds = rng.uniform(0.3, 0.8)
    t = _t(seconds)
    f_hi, f_lo = rng.uniform(110, 240), rng.uniform(40, 62)
    freq = f_lo + (f_hi - f_lo) * np.exp(-t * rng.uniform(18, 45))
    body = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t * rng.uniform(5, 12))
    click = _highpass(rng.uniform(-1, 1, t.size), 2000) * np.exp(-t * 300) * rng.uniform(0.1, 0.5)
    return np.tanh(rng.uniform(1, 2.5) * (body + click))


def snare(rng: np.random.Generator) -> np.ndarray:
    t = _t(rng.uniform(0.2, 0.5))
    noise = _bandpass(rng.uniform(-1, 1, t.size), rng.uniform(800, 2000), rng.uniform(6000, 11000))
    body_f = rng.uniform(160, 260)
    body = np.sin(2 * np.pi * body_f * t) * np.exp(-t * rng.uniform(20, 40))
    return rng.uniform(0.6, 1.2) * noise * np.exp(-t * rng.uniform(12, 25)) + 0.6 * body


def clap(rng: np.random.Generator) -> np.ndarray:
    t = _t(rng.uniform(0.25, 0.5))
    noise = _bandpass(rng.uniform(-1, 1, t.size), rng.uniform(700, 1100), rng.uniform(2200, 4000))
    env = np.zeros(t.size)
    for i in range(rng.integers(3, 5)):
        start = int((i * rng.uniform(0.008, 0.013)) * SR)
        env[start:] += np.exp(-(t[: t.size - start]) * 180)
    env += 0.5 * np.exp(-t * rng.uniform(12, 20))
    return noise * env


def hihat(rng: np.random.Generator, open_: bool = False) -> np.ndarray:
    t = _t(rng.uniform(0.5, 1.0) if open_ else rng.uniform(0.06, 0.2))
    ratios = (2.0, 3.0, 4.16, 5.43, 6.79, 8.21)
    base = rng.uniform(300, 450)
    metal = sum(_pulse(base * r, t) for r in ratios)
    sound = _highpass(0.5 * metal + rng.uniform(-1, 1, t.size), rng.uniform(6000, 8000), order=4)
    return sound * np.exp(-t * (rng.uniform(5, 9) if open_ else rng.uniform(35, 70)))


def cymbal(rng: np.random.Generator) -> np.ndarray:
    t = _t(rng.uniform(1.5, 3.0))
    base = rng.uniform(250, 400)
    metal = sum(_pulse(base * r, t) for r in (1.0, 1.48, 2.13, 2.71, 3.64, 4.9))
    sound = _highpass(0.4 * metal + rng.uniform(-1, 1, t.size), rng.uniform(3500, 5500), order=4)
    return sound * np.exp(-t * rng.uniform(1.5, 3.0)) * (1 - np.exp(-t * 400))


def tom(rng: np.random.Generator) -> np.ndarray:
    t = _t(rng.uniform(0.4, 0.9))
    f0 = rng.uniform(80, 220)
    freq = f0 * (1 + 0.35 * np.exp(-t * 20))
    body = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t * rng.uniform(5, 9))
    skin = _bandpass(rng.uniform(-1, 1, t.size), 300, 3000) * np.exp(-t * 40) * 0.3
    return body + skin


def percussion(rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(0, 4)
    if kind == 0:  # clave / rim / woodblock
        t = _t(rng.uniform(0.08, 0.2))
        return np.sin(2 * np.pi * rng.uniform(900, 2500) * t) * np.exp(-t * rng.uniform(40, 80))
    if kind == 1:  # shaker
        t = _t(rng.uniform(0.12, 0.3))
        env = np.sin(np.pi * t / t[-1]) ** 2
        return _bandpass(rng.uniform(-1, 1, t.size), 4000, 10000) * env
    if kind == 2:  # cowbell
        t = _t(rng.uniform(0.2, 0.5))
        tone = _pulse(540, t) + _pulse(800, t)
        return _bandpass(tone, 400, 3000) * np.exp(-t * rng.uniform(10, 18))
    t = _t(rng.uniform(0.2, 0.5))  # conga
    f0 = rng.uniform(200, 380)
    body = np.sin(2 * np.pi * f0 * t * (1 + 0.1 * np.exp(-t * 30)))
    return body * np.exp(-t * rng.uniform(10, 16)) + 0.2 * rng.uniform(-1, 1, t.size) * np.exp(
        -t * 80
    )


def bass_note(rng: np.random.Generator, note: float, seconds: float, kind: int = -1) -> np.ndarray:
    kind = rng.integers(0, 3) if kind < 0 else kind
    t = _t(seconds)
    f = midi_hz(note)
    if kind == 0:  # 808-ish sub with a short glide
        freq = f * (1 + 0.3 * np.exp(-t * 40))
        x = np.sin(2 * np.pi * np.cumsum(freq) / SR)
        x = np.tanh(1.5 * x) * np.exp(-t * rng.uniform(0.5, 2.0))
    elif kind == 1:  # filtered saw
        x = _lowpass(_saw(f, t) + 0.5 * _saw(f * 1.004, t), rng.uniform(300, 900))
        x *= np.exp(-t * rng.uniform(0.5, 3.0))
    else:  # square, plucky
        x = _lowpass(_pulse(f, t, rng.uniform(0.3, 0.5)), rng.uniform(250, 600))
        x *= np.exp(-t * rng.uniform(2.0, 6.0))
    return _fade(x, 0.004)


def synth_note(rng: np.random.Generator, note: float, seconds: float) -> np.ndarray:
    t = _t(seconds)
    f = midi_hz(note)
    detune = rng.uniform(0.002, 0.008)
    x = _saw(f, t) + _saw(f * (1 + detune), t, 0.3) + 0.5 * _pulse(f / 2, t, 0.4)
    x = _lowpass(x, rng.uniform(2500, 7000))
    attack = rng.uniform(0.003, 0.03)
    env = np.minimum(1.0, t / attack) * (0.7 + 0.3 * np.exp(-t * 3))
    return _fade(x * env, 0.02)


def keys_note(rng: np.random.Generator, note: float, seconds: float, kind: int = -1) -> np.ndarray:
    kind = rng.integers(0, 2) if kind < 0 else kind
    t = _t(seconds)
    f = midi_hz(note)
    if kind == 0:  # piano-like: inharmonic partials, faster decay higher up
        x = sum(
            np.sin(2 * np.pi * f * h * np.sqrt(1 + 0.0004 * h * h) * t)
            * np.exp(-t * (1.2 + 0.8 * h))
            / h**1.1
            for h in range(1, 9)
        )
    else:  # electric piano: FM bell
        index = 2.5 * np.exp(-t * 4)
        x = np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * f * t)) * np.exp(-t * 1.5)
    return _fade(x * (1 - np.exp(-t * 800)), 0.01)


def pad_chord(rng: np.random.Generator, notes: list[float], seconds: float) -> np.ndarray:
    t = _t(seconds)
    x = np.zeros(t.size)
    for n in notes:
        f = midi_hz(n)
        for d in (-0.004, 0.0, 0.005):
            x += _saw(f * (1 + d), t, rng.uniform())
    x = _lowpass(x, rng.uniform(1200, 3000))
    attack = min(rng.uniform(0.3, 1.2), seconds / 3)
    env = np.minimum(1.0, t / attack) * np.minimum(1.0, (t[-1] - t) / 0.3 + 0.01)
    return x * env


def fx(rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(0, 3)
    seconds = rng.uniform(1.5, 4.0)
    t = _t(seconds)
    if kind == 0:  # riser: noise through a rising band
        noise = rng.uniform(-1, 1, t.size)
        out = np.zeros(t.size)
        pieces = 16
        edges = np.linspace(0, t.size, pieces + 1).astype(int)
        for i in range(pieces):
            centre = 300 * (40 ** (i / pieces))
            seg = slice(edges[i], edges[i + 1])
            out[seg] = _bandpass(noise[seg], centre * 0.6, min(centre * 1.6, 20000))
        return out * (t / t[-1]) ** 1.5
    if kind == 1:  # downlifter / laser sweep
        freq = 4000 * np.exp(-t * rng.uniform(1.0, 3.0)) + 60
        return np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t * 0.8)
    boom = np.sin(2 * np.pi * np.cumsum(40 + 80 * np.exp(-t * 6)) / SR) * np.exp(-t * 1.5)
    air = _lowpass(rng.uniform(-1, 1, t.size), 3000) * np.exp(-t * 1.2)
    return boom + 0.5 * air


ONE_SHOTS = {
    "kick": kick,
    "snare": snare,
    "clap": clap,
    "hihat": lambda rng: hihat(rng, open_=rng.random() < 0.3),
    "cymbal": cymbal,
    "tom": tom,
    "percussion": percussion,
    "bass": lambda rng: bass_note(rng, rng.uniform(28, 47) // 1, rng.uniform(0.4, 1.8)),
    "synth": lambda rng: synth_note(rng, rng.integers(55, 84), rng.uniform(0.4, 2.0)),
    "keys": lambda rng: keys_note(rng, rng.integers(48, 84), rng.uniform(1.0, 3.0)),
    "pad": lambda rng: pad_chord(
        rng,
        [n + rng.integers(48, 60) for n in (0, rng.choice([3, 4]), 7, 12)],
        rng.uniform(3.0, 6.0),
    ),
    "fx": fx,
}

# Drum styles: step patterns on a 16-step bar (kick, snare/clap, closed hat, open hat).
STYLES = {
    "house": ((118, 128), [0, 4, 8, 12], [4, 12], [2, 6, 10, 14], [], 0.0),
    "boombap": ((80, 98), [0, 7, 10], [4, 12], list(range(0, 16, 2)), [], 0.6),
    "trap": ((130, 150), [0, 6, 11], [8], list(range(16)), [], 0.0),
    "dnb": ((164, 178), [0, 10], [4, 12], list(range(0, 16, 2)), [], 0.0),
    "rock": ((96, 136), [0, 8, 10], [4, 12], list(range(0, 16, 2)), [], 0.0),
    "breaks": ((126, 140), [0, 6, 10], [4, 12, 15], list(range(0, 16, 2)), [14], 0.0),
    "dembow": ((88, 100), [0, 4, 8, 12], [3, 6, 11, 14], list(range(0, 16, 2)), [], 0.0),
    "lofi": ((70, 86), [0, 9, 10], [4, 12], list(range(0, 16, 2)), [], 0.62),
}

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
# Scale-degree roots, four chords; the last two of each mode start away from the tonic.
PROGRESSIONS = {
    "major": [(0, 4, 5, 3), (0, 3, 4, 3), (0, 5, 3, 4), (0, 3, 5, 4), (3, 4, 0, 0), (1, 4, 0, 0)],
    "minor": [(0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 5, 3, 4), (5, 6, 0, 0), (3, 4, 0, 0)],
}


def _place(out: np.ndarray, sound: np.ndarray, at: float, gain: float = 1.0) -> None:
    start = int(at * SR)
    if start >= out.size:
        return
    end = min(out.size, start + sound.size)
    out[start:end] += gain * sound[: end - start]


def step_time(step: int, beat: float, swing: float) -> float:
    """Start of a 16th ``step`` in seconds; swing delays the off-beat 16ths."""
    base = step * beat / 4
    if swing and step % 2:
        base += (swing - 0.5) * beat / 2
    return base


def drum_loop(rng: np.random.Generator, style: str, bpm: float, bars: int) -> np.ndarray:
    _, kicks, snares, hats, opens, swing = STYLES[style]
    beat = 60.0 / bpm
    out = np.zeros(int(round(bars * 4 * beat * SR)))
    sounds = {"k": kick(rng), "s": clap(rng) if style == "house" else snare(rng)}
    closed, open_ = hihat(rng), hihat(rng, open_=True)
    for bar in range(bars):
        for step in range(16):
            at = step_time(bar * 16 + step, beat, swing) + rng.normal(0, 0.003)
            at = max(at, 0.0)
            if step in kicks or (bar % 2 and style == "boombap" and step == 14):
                _place(out, sounds["k"], at, rng.uniform(0.85, 1.0))
            if step in snares:
                _place(out, sounds["s"], at, rng.uniform(0.7, 0.9))
            if step in hats:
                accent = 0.55 if step % 4 == 0 else 0.4
                _place(out, closed, at, accent * rng.uniform(0.7, 1.0))
            if step in opens or (
                style == "house" and step in (2, 6, 10, 14) and rng.random() < 0.3
            ):
                _place(out, open_, at, 0.35)
    # Drum loops in packs are cut at the bar line; the tails ring into the loop's start.
    return out


def pick_progression(
    rng: np.random.Generator, mode: str
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The scale of ``mode`` and one of its chord progressions (scale degrees)."""
    scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
    return scale, PROGRESSIONS[mode][rng.integers(len(PROGRESSIONS[mode]))]


def music_loop(
    rng: np.random.Generator, tonic: int, mode: str, bpm: float, bars: int
) -> np.ndarray:
    scale, progression = pick_progression(rng, mode)
    beat = 60.0 / bpm
    total = int(round(bars * 4 * beat * SR))
    out = np.zeros(total)
    chords_per_bar = 2 if bars == 1 or (bars == 2 and rng.random() < 0.5) else 1
    n_chords = bars * chords_per_bar
    chord_beats = 4 / chords_per_bar
    root_octave = 48 + tonic if tonic < 7 else 36 + tonic
    layers = rng.choice(
        ["pad+bass", "arp+bass", "stabs+bass", "keys+bass", "arp+pad", "keys"],
        p=[0.2, 0.25, 0.15, 0.2, 0.1, 0.1],
    )
    swing = rng.choice([0.0, 0.0, 0.58])
    if n_chords == 2:  # two chords: the half of the progression that holds the tonic
        progression = progression[:2] if progression[0] == 0 else progression[2:]
    for i in range(n_chords):
        degree = progression[i % len(progression)]
        if mode == "minor" and degree == 4 and rng.random() < 0.7:
            triad_pcs = [scale[4], scale[4] + 4, scale[4] + 7]  # harmonic-minor major V
        else:
            triad_pcs = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        chord = [root_octave + 12 + p for p in triad_pcs]
        chord = [n - 12 if n > 74 else n for n in chord]
        start = i * chord_beats * beat
        length = chord_beats * beat
        if "pad" in layers:
            _place(out, pad_chord(rng, chord, length + 0.2), start, 0.25)
        if "arp" in layers:
            step = beat / (4 if bpm < 120 else 2)
            pattern = chord + [chord[0] + 12, chord[1] + 12]
            for j in range(int(round(length / step))):
                at = start + (j * step if not swing or j % 2 == 0 else (j + swing * 2 - 1) * step)
                note = pattern[[0, 1, 2, 3, 2, 1, 4, 1][j % 8] % len(pattern)]
                gain = 0.5 if (j * step) % beat < 1e-6 else 0.35
                _place(out, synth_note(rng, note, step * 0.9), at, gain)
        if "stabs" in layers:
            rhythms = ([0, 3, 6], [0, 2, 3, 6], [0, 1, 3, 4, 6])
            for j in rhythms[rng.integers(len(rhythms))]:
                at = start + j * beat / 2
                if at < start + length:
                    for n in chord:
                        _place(out, keys_note(rng, n, beat * 0.45, kind=1), at, 0.3)
        if "keys" in layers:
            hits = [0.0, 1.5, 2.5] if rng.random() < 0.5 else [0.0, 1.0, 2.0, 3.0]
            for h in hits:
                if h < chord_beats:
                    for n in chord:
                        _place(out, keys_note(rng, n, beat * 1.2, kind=0), start + h * beat, 0.3)
        if "bass" in layers:
            root = root_octave - 12 + triad_pcs[0]
            root = root + 12 if root < 33 else root
            figures = ([0, 1, 2, 3], [0, 1.5, 2, 3.5], [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5])
            figure = figures[rng.integers(len(figures))]
            for b in figure:
                if b < chord_beats:
                    note = bass_note(rng, root, beat * 0.45, kind=1)
                    _place(out, note, start + b * beat, 0.6 if b % 1 == 0 else 0.45)
    return out


def additive(
    rng: np.random.Generator, notes: list[float], seconds: float, attack: float, decay: float
) -> np.ndarray:
    """Notes of a few sine harmonics each (organ-, sine- and flute-like tones), one envelope."""
    t = _t(seconds)
    tilt = rng.uniform(0.8, 2.5)
    x = np.zeros(t.size)
    for n in notes:
        f = midi_hz(n) * (1 + rng.normal(0, 0.002))
        for h in range(1, int(rng.integers(1, 7)) + 1):
            if f * h < SR / 2:
                x += np.sin(2 * np.pi * f * h * t + rng.uniform(0, 6.3)) / h**tilt
    env = np.minimum(1.0, t / attack) * np.exp(-t * decay)
    return _fade(x * env, 0.01)


def additive_progression(
    rng: np.random.Generator, tonic: int, mode: str, bpm: float, bars: int
) -> np.ndarray:
    """Chords of ``additive`` tones struck on a rhythm over a root bass, in a known key."""
    scale, progression = pick_progression(rng, mode)
    beat = 60.0 / bpm
    out = np.zeros(int(round(bars * 4 * beat * SR)))
    hits = ([0, 1, 2, 3], [0, 1.5, 2.5], [0], [0, 2], [0.5, 1.5, 2.5, 3.5])[rng.integers(5)]
    decay = rng.uniform(0.5, 4.0)
    with_bass = rng.random() < 0.7
    base = 48 + tonic if tonic < 7 else 36 + tonic
    for bar in range(bars):
        degree = progression[bar % len(progression)]
        triad = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
        for h in hits:
            length = beat * (4 - h if len(hits) == 1 else 1.0)
            chord = additive(rng, [base + 12 + p for p in triad], length, 0.005, decay)
            _place(out, chord, (bar * 4 + h) * beat, 0.4)
        if with_bass:
            for b in range(4):
                note = additive(rng, [base - 12 + triad[0]], beat * 0.9, 0.005, decay)
                _place(out, note, (bar * 4 + b) * beat, 0.5)
    return out
