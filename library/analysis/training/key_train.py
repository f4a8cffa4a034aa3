"""Train the key scorer (``key_model``) on rendered loops in known keys, leaving one source out.

    python -m library.analysis.training.key_train [--cache $SAMPLEMIND_DATA/training]

Every source's music loops (``key_loops.source_loops``) are read clean and in
``COPIES`` processed copies (``augment``: filters, saturation, rooms, codecs,
noise; never a pitch change, which would move the key). The model is a
multinomial logistic regression over the 24 keys whose weights are shared by
the 12 tonics of each mode (``key_model.features`` does the rotation),
fitted with L-BFGS. Validation trains on every source but one and tests on
that one (MIREX score and exact share); then the model is fitted on all and
written to ``models/key.npz`` with ``models/key-report.json``.
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
L2 = 1e-4
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


def _scores(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return np.concatenate([x @ weights[0] + bias[0], x @ weights[1] + bias[1]], axis=1)


def fit(summaries: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(weights (2, D), bias (2,))`` minimising cross-entropy over the 24 keys + L2."""
    x = np.stack([key_model.features(s) for s in summaries])  # (N, 12, D)
    n, _, d = x.shape
    rows = np.arange(n)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = theta[: 2 * d].reshape(2, d), theta[2 * d :]
        scores = _scores(x, weights, bias)
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        p /= p.sum(axis=1, keepdims=True)
        value = -np.log(p[rows, keys] + 1e-12).mean() + L2 * float((weights**2).sum())
        g = p
        g[rows, keys] -= 1
        g /= n
        grad_w = np.stack(
            [np.einsum("nt,ntd->d", g[:, :12], x), np.einsum("nt,ntd->d", g[:, 12:], x)]
        )
        grad_b = np.array([g[:, :12].sum(), g[:, 12:].sum()])
        return value, np.concatenate([(grad_w + 2 * L2 * weights).ravel(), grad_b])

    found = minimize(loss, np.zeros(2 * d + 2), jac=True, method="L-BFGS-B")
    return found.x[: 2 * d].reshape(2, d), found.x[2 * d :]


def evaluate(
    summaries: np.ndarray, keys: np.ndarray, weights: np.ndarray, bias: np.ndarray
) -> dict[str, float]:
    x = np.stack([key_model.features(s) for s in summaries])
    guesses = _scores(x, weights, bias).argmax(axis=1)
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
        weights, bias = fit(data["summary"][train], data["key"][train])
        clean = test & (data["variant"] == 0)
        processed = test & (data["variant"] > 0)
        report[name] = {
            "clean": evaluate(data["summary"][clean], data["key"][clean], weights, bias),
            "processed": evaluate(
                data["summary"][processed], data["key"][processed], weights, bias
            ),
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
    weights, bias = fit(data["summary"], data["key"])
    np.savez_compressed(key_model.MODEL_PATH, weights=weights, bias=bias)
    summary = {
        "analyzer_version": ANALYZER_VERSION,
        "trained": datetime.date.today().isoformat(),  # noqa: DTZ011 - a date for people
        "loops_per_source": key_loops.LOOPS,
        "processed_copies": COPIES,
        "l2": L2,
        "leave_one_source_out": report,
    }
    REPORT_PATH.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {key_model.MODEL_PATH}")


if __name__ == "__main__":
    main()
