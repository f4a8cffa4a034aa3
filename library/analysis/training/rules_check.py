"""Check the rules around the key scorer and the tempo chooser on fresh rendered loops.

    python -m library.analysis.training.rules_check [--cache $SAMPLEMIND_DATA/training]

Renders 60 drum loops and 60 music loops per GM soundfont, sequenced like
the benchmark's (``loops.render_loops``) but from seeds of their own (never
the benchmark's, never a model's training seeds), reads each as the analyser
does, and prints what the thresholds of ``descriptors`` were chosen from:

- for each ``MUSIC_KEY_EVIDENCE`` candidate, the MIREX points gained on music
  loops the classifier reads as drums, against the drum loops it would key;
- key MIREX on the music loops under the old and the current rules;
- tempo within 4% with and without ``rhythm.tempo_from_length``.

Needs fluidsynth and the soundfont packages (``make model`` installs them).
"""

from __future__ import annotations

import argparse
import os
import pickle
from pathlib import Path

import numpy as np

from library.analysis import category, classify, descriptors, key_model, rhythm, spectral
from library.analysis.training import loops, render
from library.analysis.training.key_train import key_index, mirex

LOOPS_PER_KIND = 60
CANDIDATES = (0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3)


def fresh_loops(cache: Path) -> list[render.Clip]:
    path = cache / f"rules-check-loops-{LOOPS_PER_KIND}.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own cache file
    clips = []
    for source in render.SOUNDFONTS:
        rng = render.seeded(source.name, "gate-loops-analysis")
        renderer = lambda n, p, path=source.path: render.fluidsynth(path, n, p)  # noqa: E731
        clips += loops.render_loops(source.name, renderer, rng, LOOPS_PER_KIND)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(clips))
    return clips


def reading(clip: render.Clip) -> dict | None:
    """What the analyser reads of a whole loop: category odds, tonalness, key, tempo."""
    peak = float(np.abs(clip.audio).max())
    if peak < 1e-4:
        return None
    y = np.ascontiguousarray(clip.audio / peak, dtype=np.float32)
    duration = y.size / spectral.SR
    spec = spectral.compute_spectrum(y)
    shape = spectral.spectral_descriptors(spec, y)
    mfcc_mean, mfcc_std = spectral.weighted_stats(spectral.mfcc(spec), spec.weights)
    noisiness = spectral.noisiness(spec)
    _, _, periodicity, profile = descriptors.tonal_evidence(y, spec)
    measured = category.Measured(
        shape, mfcc_mean, mfcc_std, noisiness, profile.tonalness, periodicity
    )
    decision = classify.classify(category.features(y, spec, duration, measured), None)
    flux = rhythm.onset_envelope(spec, circular=True)
    onsets = rhythm.onset_frames(flux, spec.fps)
    tempo = rhythm.estimate_tempo(
        flux,
        spec.fps,
        duration,
        circular=True,
        onsets=int(onsets.size),
        drumness=min(1.0, max(0.0, (noisiness - 0.04) / 0.1)),
        chroma=profile.frames,
    )
    key = None
    if profile.chroma.sum() > 0:
        key = int(np.argmax(key_model.probabilities(profile, duration)))
    return {
        "category": decision.category,
        "music": decision.probabilities["music_loop"],
        "tonalness": profile.tonalness,
        "key": key,
        "bpm": tempo.bpm,
        "length_bpm": rhythm.tempo_from_length(duration).bpm,
    }


def _keyed(r: dict, evidence: float | None, music_min: float) -> int | None:
    musical = r["category"] == "music_loop" or (evidence is not None and r["music"] >= evidence)
    if r["category"] in descriptors.NO_KEY_CATEGORIES and not musical:
        return None
    floor = music_min if musical else key_model.MIN_TONALNESS
    return r["key"] if r["tonalness"] >= floor else None


def _within(bpm: float | None, truth: float) -> bool:
    return bpm is not None and abs(bpm / truth - 1) <= 0.04


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_dir = Path(os.environ.get("SAMPLEMIND_DATA", "var"))
    parser.add_argument("--cache", type=Path, default=data_dir / "training")
    args = parser.parse_args(argv)
    music, drums = [], []
    for clip in fresh_loops(args.cache):
        r = reading(clip)
        if r is None:
            continue
        if clip.category == "music_loop":
            music.append((r, key_index(clip.key, clip.mode), clip.bpm))
        else:
            drums.append((r, clip.bpm))
    drummed = [(r, k) for r, k, _ in music if r["category"] in descriptors.NO_KEY_CATEGORIES]
    print(f"{len(music)} music loops ({len(drummed)} read as drums), {len(drums)} drum loops")
    for evidence in CANDIDATES:
        gained = sum(
            mirex(r["key"], k) for r, k in drummed if _keyed(r, evidence, 0.15) is not None
        )
        keyed = sum(_keyed(r, evidence, 0.15) is not None for r, _ in drums)
        print(f"  music evidence {evidence}: MIREX points {gained:.1f}, drum loops keyed {keyed}")

    def key_score(evidence: float | None, music_min: float) -> float:
        scores = []
        for r, k, _ in music:
            guess = _keyed(r, evidence, music_min)
            scores.append(0.0 if guess is None else mirex(guess, k))
        return float(np.mean(scores))

    print(
        f"key MIREX on music loops: before {key_score(None, 0.15):.3f}, with the current rules "
        f"{key_score(descriptors.MUSIC_KEY_EVIDENCE, descriptors.MUSIC_MIN_TONALNESS):.3f}"
    )
    for name, rows in (("music", [(r, b) for r, _, b in music]), ("drum", drums)):
        heard = np.mean([_within(r["bpm"], b) for r, b in rows])
        filled = np.mean([_within(r["bpm"] or r["length_bpm"], b) for r, b in rows])
        print(f"{name} loops tempo within 4%: heard {heard:.1%}, with the length's {filled:.1%}")


if __name__ == "__main__":
    main()
