"""Train the key scorer (``key_model``) on rendered loops in known keys, leaving one source out.

    python -m library.analysis.training.key_train [--cache $SAMPLEMIND_DATA/training]

Every source's music loops (``key_loops.source_loops``) are read clean and in
``COPIES`` processed copies (``augment``: filters, saturation, rooms, codecs,
noise; never a pitch change, which would move the key). The model is a
small perceptron scoring each of the 24 keys, its weights shared by the 12
tonics of each mode (``key_model.features`` does the rotation), fitted for
cross-entropy with L-BFGS from a seeded start. Validation trains on every
source but one and tests on that one (MIREX score and exact share); then
the model is fitted on all and written to ``models/key.npz`` with
``models/key-report.json``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import inspect
import json
import os
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from library.analysis import key_model, tonal
from library.analysis.training import dataset, key_loops
from library.analysis.training.augment import augment

COPIES = 1
L2 = 1e-3
HIDDEN = 32
MAX_ITER = 400
SEED = 20261204
REPORT_PATH = key_model.MODEL_PATH.with_name("key-report.json")


def key_index(tonic: int, mode: str) -> int:
    return tonic + (12 if mode == "minor" else 0)


def mirex(guess: int, truth: int) -> float:
    """1 exact, 0.5 a fifth away in the same mode, 0.3 relative, 0.2 parallel, else 0."""
    interval = (guess - truth) % 12
    if guess // 12 == truth // 12:
        return 1.0 if interval == 0 else 0.5 if interval in (5, 7) else 0.0
    if interval == 0:
        return 0.2
    return 0.3 if interval == (9 if truth < 12 else 3) else 0.0


def _cache_path(cache: Path) -> Path:
    code = inspect.getsource(key_loops) + inspect.getsource(tonal.tonal_profile)
    code += inspect.getsource(key_model.summary) + inspect.getsource(key_model._segments)
    digest = hashlib.sha256(code.encode()).hexdigest()[:12]
    return cache / f"key-features-{COPIES}-{digest}.npz"


def build(cache: Path) -> dict[str, np.ndarray]:
    """Summaries of every loop, clean (variant 0) and processed: rows, key, source, variant."""
    path = _cache_path(cache)
    if path.exists():
        with np.load(path) as data:
            return dict(data)
    rows, keys, sources, variants = [], [], [], []
    for s, name in enumerate(dataset.SOURCE_NAMES):
        clips = key_loops.source_loops(name, cache)
        print(f"{name}: {len(clips)} loops", flush=True)
        for i, clip in enumerate(clips):
            rng = np.random.default_rng([SEED, s, i])
            for variant in range(COPIES + 1):
                audio = clip.audio if variant == 0 else augment(clip.audio, rng, loop=True)
                peak = float(np.abs(audio).max())
                if peak < 1e-4:
                    continue
                y = np.ascontiguousarray(audio / peak, dtype=np.float32)
                profile = tonal.tonal_profile(y)
                rows.append(key_model.summary(profile, y.size / key_model.SR))
                keys.append(key_index(clip.key, clip.mode))
                sources.append(s)
                variants.append(variant)
    data = {
        "summary": np.array(rows),
        "key": np.array(keys),
        "source": np.array(sources),
        "variant": np.array(variants),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)
    return data


def fit(summaries: np.ndarray, keys: np.ndarray) -> dict[str, np.ndarray]:
    """``key_model.Model``'s arrays minimising cross-entropy over the 24 keys + L2 on the
    weights, by L-BFGS from a seeded start."""
    x = np.stack([key_model.features(s) for s in summaries])  # (N, 12, D)
    n, _, d = x.shape
    rows = np.arange(n)
    sizes = (d * HIDDEN, HIDDEN, 2 * HIDDEN, 2)

    def unpack(theta: np.ndarray) -> dict[str, np.ndarray]:
        w1, b1, w2, b2 = np.split(theta, np.cumsum(sizes)[:-1])
        return {
            "hidden_weights": w1.reshape(d, HIDDEN),
            "hidden_bias": b1,
            "weights": w2.reshape(2, HIDDEN),
            "bias": b2,
        }

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        a = unpack(theta)
        z = x @ a["hidden_weights"] + a["hidden_bias"]  # (N, 12, H)
        h = np.maximum(z, 0.0)
        w2 = a["weights"]
        scores = np.concatenate([h @ w2[0] + a["bias"][0], h @ w2[1] + a["bias"][1]], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        penalty = float((a["hidden_weights"] ** 2).sum() + (w2**2).sum())
        value = -np.log(p[rows, keys] + 1e-12).mean() + L2 * penalty
        g = p
        g[rows, keys] -= 1
        g /= n
        major, minor = g[:, :12], g[:, 12:]
        grad_w2 = np.stack([np.einsum("nt,nth->h", major, h), np.einsum("nt,nth->h", minor, h)])
        grad_b2 = np.array([major.sum(), minor.sum()])
        grad_z = (major[:, :, None] * w2[0] + minor[:, :, None] * w2[1]) * (z > 0)
        grad_w1 = np.einsum("ntd,nth->dh", x, grad_z) + 2 * L2 * a["hidden_weights"]
        grad = [grad_w1.ravel(), grad_z.sum(axis=(0, 1)), (grad_w2 + 2 * L2 * w2).ravel(), grad_b2]
        return value, np.concatenate(grad)

    rng = np.random.default_rng(SEED)
    start = np.concatenate(
        [
            rng.normal(0.0, 0.1, d * HIDDEN),
            np.zeros(HIDDEN),
            rng.normal(0.0, 0.1, 2 * HIDDEN),
            np.zeros(2),
        ]
    )
    found = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": MAX_ITER})
    return {k: v.astype(np.float64) for k, v in unpack(found.x).items()}


def evaluate(
    summaries: np.ndarray, keys: np.ndarray, arrays: dict[str, np.ndarray]
) -> dict[str, float]:
    x = np.stack([key_model.features(s) for s in summaries])
    guesses = key_model.Model(arrays).rotated_scores(x).argmax(axis=1)
    scores = [mirex(int(g), int(t)) for g, t in zip(guesses, keys, strict=True)]
    return {
        "mirex": round(float(np.mean(scores)), 3),
        "exact": round(float(np.mean(guesses == keys)), 3),
        "loops": int(keys.size),
    }


def leave_one_source_out(data: dict[str, np.ndarray]) -> dict[str, dict]:
    report = {}
    for s, name in enumerate(dataset.SOURCE_NAMES):
        train, test = data["source"] != s, data["source"] == s
        arrays = fit(data["summary"][train], data["key"][train])
        clean = test & (data["variant"] == 0)
        processed = test & (data["variant"] > 0)
        report[name] = {
            "clean": evaluate(data["summary"][clean], data["key"][clean], arrays),
            "processed": evaluate(data["summary"][processed], data["key"][processed], arrays),
        }
        print(f"  held out {name}: {report[name]}", flush=True)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_dir = Path(os.environ.get("SAMPLEMIND_DATA", "var"))
    parser.add_argument("--cache", type=Path, default=data_dir / "training")
    args, _ = parser.parse_known_args(argv)  # beside the category trainer's options
    from library.analysis import ANALYZER_VERSION

    data = build(args.cache)
    print(f"key model: {data['key'].size} loop readings", flush=True)
    report = leave_one_source_out(data)
    np.savez_compressed(key_model.MODEL_PATH, **fit(data["summary"], data["key"]))
    summary = {
        "analyzer_version": ANALYZER_VERSION,
        "trained": datetime.date.today().isoformat(),  # noqa: DTZ011 - a date for people
        "loops_per_source": key_loops.LOOPS,
        "processed_copies": COPIES,
        "l2": L2,
        "hidden_units": HIDDEN,
        "leave_one_source_out": report,
    }
    REPORT_PATH.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {key_model.MODEL_PATH}")


if __name__ == "__main__":
    main()
