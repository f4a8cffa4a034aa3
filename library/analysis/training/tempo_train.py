"""Train the tempo chooser (``rhythm.choose_level``): a beat, its half or its double.

    python -m library.analysis.training.tempo_train [--cache $SAMPLEMIND_DATA/training]

The loops: every source's music loops for the key model (``key_loops``) and
the drum and music loops of the category training set, clean and in
``COPIES`` processed copies. Each is read as the analyser reads a loop
(circularly); the tempo candidates ``rhythm`` finds give the best one, its
half and its double, and the one within 4% of the true tempo is the answer.
A perceptron with one hidden layer (scikit-learn, weights exported for
numpy) learns to tell the right option from the others by its
``rhythm.chooser_inputs``; validation leaves one source out. Written to
``models/tempo.npz`` with ``models/tempo-report.json``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import inspect
import json
import os
import pickle
from pathlib import Path

import numpy as np

from library.analysis import rhythm, spectral, tonal
from library.analysis.training import dataset, key_loops
from library.analysis.training.augment import augment
from library.analysis.training.render import SR, Clip

COPIES = 1
HIDDEN = 32
ALPHA = 1e-2
SEED = 20261205
REPORT_PATH = rhythm.CHOOSER_PATH.with_name("tempo-report.json")


def loops_of(name: str, cache: Path) -> list[Clip]:
    clips = key_loops.source_loops(name, cache)
    clips += [c for c in dataset.source_clips(name, cache) if c.is_loop and c.bpm]
    return clips


def _onsets(audio: np.ndarray) -> dict | None:
    """The region flux of ``audio`` read as a loop (circularly), as the analyser reads it."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak < 1e-4:
        return None
    y = np.ascontiguousarray(audio / peak, dtype=np.float32)
    spec = spectral.compute_spectrum(y)
    flux = rhythm.onset_envelope(spec, circular=True)
    return {
        "flux": flux,
        "fps": spec.fps,
        "duration": y.size / SR,
        "onsets": int(rhythm.onset_frames(flux, spec.fps).size),
        "drumness": min(1.0, max(0.0, (spectral.noisiness(spec) - 0.04) / 0.1)),
        "chroma": tonal.tonal_profile(y).frames.astype(np.float32),
    }


def _cache_path(cache: Path) -> Path:
    code = inspect.getsource(key_loops) + inspect.getsource(rhythm.onset_envelope)
    code += inspect.getsource(rhythm.onset_frames) + inspect.getsource(spectral.noisiness)
    code += inspect.getsource(tonal.tonal_profile)
    digest = hashlib.sha256(code.encode()).hexdigest()[:12]
    return cache / f"tempo-readings-{COPIES}-{digest}.pickle"


def readings(cache: Path) -> list[dict]:
    """The onset envelope of every loop, clean and processed, with its source and tempo."""
    path = _cache_path(cache)
    if path.exists():
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own cache file
    out = []
    for s, name in enumerate(dataset.SOURCE_NAMES):
        clips = loops_of(name, cache)
        print(f"{name}: {len(clips)} loops", flush=True)
        for i, clip in enumerate(clips):
            rng = np.random.default_rng([SEED, s, i])
            for variant in range(COPIES + 1):
                audio = clip.audio if variant == 0 else augment(clip.audio, rng, loop=True)
                read = _onsets(audio)
                if read is not None:
                    music = clip.category == "music_loop"
                    out.append({"source": s, "variant": variant, "music": music, "truth": clip.bpm})
                    out[-1].update(read)
    path.write_bytes(pickle.dumps(out))
    return out


def build(cache: Path) -> list[dict]:
    """One row per reading: the unaided first bpm, the options and their features, the right
    option (-1 when none is within 4%)."""
    rows = []
    for r in readings(cache):
        if r["onsets"] < rhythm.MIN_ONSETS:
            continue
        args = (r["flux"], r["fps"], r["duration"])
        found = rhythm._candidates(*args, True, r["drumness"])
        if not found:
            continue
        options = rhythm.levels(found, *args, r["onsets"], r["drumness"], r["chroma"])
        right = [abs(o.bpm / r["truth"] - 1) <= 0.04 for o in options]
        rows.append(
            {
                "source": r["source"],
                "variant": r["variant"],
                "music": r["music"],
                "truth": r["truth"],
                "first": found[0][0],
                "bpms": np.array([o.bpm for o in options]),
                "x": np.array([o.features for o in options]),
                "right": int(np.argmax(right)) if any(right) else -1,
            }
        )
    return rows


def fit(rows: list[dict]) -> dict[str, np.ndarray]:
    """The chooser's arrays: a perceptron telling the right option from the others."""
    from sklearn.neural_network import MLPClassifier

    usable = [r for r in rows if r["right"] >= 0 and len(r["bpms"]) > 1]
    x = np.concatenate([rhythm.chooser_inputs(r["x"]) for r in usable])
    y = np.concatenate([np.arange(len(r["bpms"])) == r["right"] for r in usable]).astype(int)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    net = MLPClassifier(HIDDEN, alpha=ALPHA, max_iter=800, random_state=SEED % 2**32)
    net.fit((x - mean) / scale, y)
    return {
        "mean": mean,
        "scale": scale,
        "w1": net.coefs_[0],
        "b1": net.intercepts_[0],
        "w2": net.coefs_[1],
        "b2": net.intercepts_[1],
    }


def _choose(row: dict, model: dict[str, np.ndarray] | None) -> float:
    if model is None or len(row["bpms"]) < 2:
        return row["first"]
    return float(row["bpms"][int(np.argmax(rhythm.level_scores(row["x"], model)))])


def accuracy(rows: list[dict], model: dict[str, np.ndarray] | None) -> float:
    hits = [abs(_choose(r, model) / r["truth"] - 1) <= 0.04 for r in rows]
    return round(float(np.mean(hits)), 3) if hits else float("nan")


def leave_one_source_out(rows: list[dict]) -> dict[str, dict]:
    report = {}
    for s, name in enumerate(dataset.SOURCE_NAMES):
        model = fit([r for r in rows if r["source"] != s])
        held = [r for r in rows if r["source"] == s]
        figures = {}
        for kind, music in (("music_loops", True), ("drum_loops", False)):
            for variant, label in ((0, "clean"), (1, "processed")):
                part = [r for r in held if r["music"] == music and (r["variant"] > 0) == variant]
                figures[f"{kind}_{label}"] = {
                    "acc1": accuracy(part, model),
                    "acc1_without_chooser": accuracy(part, None),
                    "loops": len(part),
                }
        report[name] = figures
        print(f"  held out {name}: {figures}", flush=True)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_dir = Path(os.environ.get("SAMPLEMIND_DATA", "var"))
    parser.add_argument("--cache", type=Path, default=data_dir / "training")
    args, _ = parser.parse_known_args(argv)  # beside the category trainer's options
    from library.analysis import ANALYZER_VERSION

    rows = build(args.cache)
    print(f"tempo chooser: {len(rows)} loop readings", flush=True)
    report = leave_one_source_out(rows)
    model = fit(rows)
    np.savez_compressed(rhythm.CHOOSER_PATH, **model)
    summary = {
        "analyzer_version": ANALYZER_VERSION,
        "trained": datetime.date.today().isoformat(),  # noqa: DTZ011 - a date for people
        "processed_copies": COPIES,
        "hidden": HIDDEN,
        "alpha": ALPHA,
        "leave_one_source_out": report,
    }
    REPORT_PATH.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {rhythm.CHOOSER_PATH}")


if __name__ == "__main__":
    main()
