"""Train the category classifier, validate it leaving one source out, write the model and card.

    python -m library.analysis.training [--cache $SAMPLEMIND_DATA/training] [--copies 3]

Deterministic: every random choice is seeded, so the same packages give the
same model. Steps:

1. Render or load every source's clips (``dataset.source_clips``) and compute
   features for each clip and ``copies`` augmented versions of it.
2. Leave one source out: train on the other sources, test on the left-out
   one, both as rendered and processed (its augmented copies). Per-class
   recall, and how often the ten nearest one-shots in the embedding share the
   class, are recorded for each.
3. Fit the odds a file name's category gets (``name_odds``) on the held-out
   probabilities of step 2, so names are weighed by how much the audio model
   is worth on sounds it has not heard.
4. Train on every source and write ``models/category.npz``, the report
   (``models/category-report.json``) and ``models/MODEL_CARD.md``.
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

from library.analysis import category, descriptors, embedding
from library.analysis.constants import ANALYZER_VERSION, CATEGORIES
from library.analysis.training import augment, dataset, loops, render, synth, timbre

SEED = 20261203
# Temperature and name odds are fitted on the held-out sampled soundfonts only: packs are
# recordings, and FM (opl3) or our own synthesis, read far worse, would teach the model to
# distrust its ears on the material it will meet.
# Producers' libraries hold few of the GM instruments "other" gathers (guitars, brass, reeds,
# flutes, solo strings), while balanced training treats every class as equally common: the
# model's odds of "other" are scaled to that rarer prior.
PRIOR = {"other": 0.35}
# Names in packs are often partial or generic ("Hit", "Perc", "FX 3"): the odds a name gets
# are fitted assuming 70% of names point to the right category.
RIGHT_NAMES = 0.7
CALIBRATION_SOURCES = ("fluidr3", "musescore", "timgm6mb", "csound")
HIDDEN = (128, 48)  # the second layer is part of the stored embedding
MODEL_DIR = category.MODEL_PATH.parent


def _features_cache(cache: Path, copies: int) -> Path:
    # Any change to how clips are made or read into features makes a new cache file.
    code = b"".join(Path(m.__file__).read_bytes() for m in (augment, dataset, loops, render, synth))
    code += "".join(
        inspect.getsource(f)
        for f in (
            category.features,
            category._bands,
            category._mean_rows,
            category._repetition,
            descriptors.tonal_evidence,
        )
    ).encode()
    digest = hashlib.sha256(code).hexdigest()[:12]
    return cache / f"features-{copies}-{digest}.npz"


def build(cache: Path, copies: int) -> dict[str, np.ndarray]:
    """Feature rows of every source: X, label index, source index, variant, one-shot flag."""
    path = _features_cache(cache, copies)
    if path.exists():
        with np.load(path) as data:
            return dict(data)
    xs, ys, sources, variants, loops = [], [], [], [], []
    for s, name in enumerate(dataset.SOURCE_NAMES):
        clips = dataset.source_clips(name, cache)
        print(f"{name}: {len(clips)} clips", flush=True)
        for index, variant, row in dataset.feature_rows(clips, copies, SEED + 1000 * s):
            xs.append(row)
            ys.append(CATEGORIES.index(clips[index].category))
            sources.append(s)
            variants.append(variant)
            loops.append(clips[index].is_loop)
    data = {
        "x": np.stack(xs),
        "y": np.array(ys),
        "source": np.array(sources),
        "variant": np.array(variants),
        "loop": np.array(loops),
    }
    np.savez_compressed(path, **data)
    return data


def fit(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """An MLP on standardised features, classes weighted equally, as the arrays
    ``category.Model`` runs and ``category.npz`` stores."""
    from sklearn.neural_network import MLPClassifier

    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    inputs = np.clip((x - mean) / scale, -category.CLIP, category.CLIP)
    counts = np.bincount(y, minlength=len(CATEGORIES)).astype(float)
    weights = (1.0 / np.maximum(counts, 1))[y]
    weights *= y.size / weights.sum()
    net = MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        alpha=1e-3,
        batch_size=256,
        learning_rate_init=1e-3,
        max_iter=60,
        random_state=SEED % 2**31,
    )
    net.fit(inputs, y, sample_weight=weights)
    # Classes absent from training get no output column from sklearn: give them -inf odds.
    w_last = np.zeros((HIDDEN[-1], len(CATEGORIES)), dtype=np.float32)
    b_last = np.full(len(CATEGORIES), -30.0, dtype=np.float32)
    w_last[:, net.classes_] = net.coefs_[-1]
    b_last[net.classes_] = net.intercepts_[-1]
    arrays = {
        "classes": np.array(CATEGORIES),
        "mean": mean.astype(np.float32),
        "scale": scale.astype(np.float32),
        "w0": net.coefs_[0].astype(np.float32),
        "b0": net.intercepts_[0].astype(np.float32),
        "w1": net.coefs_[1].astype(np.float32),
        "b1": net.intercepts_[1].astype(np.float32),
        "w2": w_last,
        "b2": b_last,
        "name_odds": np.array(1.0),
        "temperature": np.array(1.0),
        "prior": np.array([PRIOR.get(c, 1.0) for c in CATEGORIES], dtype=np.float32),
    }
    arrays.update(embedding_basis(arrays, x))
    return arrays


def embedding_basis(arrays: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """The mean of the unit-length second hidden layer over the feature rows ``x`` and its
    ``embedding.PROJECTED`` main directions (principal axes, each signed so that its
    largest component is positive): the embedding's projection of the layer."""
    h = np.clip((x - arrays["mean"]) / arrays["scale"], -category.CLIP, category.CLIP)
    for i in range(2):
        h = np.maximum(h @ arrays[f"w{i}"] + arrays[f"b{i}"], 0.0)
    h = h.astype(np.float64)
    norm = np.linalg.norm(h, axis=1, keepdims=True)
    unit = np.divide(h, norm, out=np.zeros_like(h), where=norm > 0)
    centre = unit.mean(axis=0)
    _, _, axes = np.linalg.svd(unit - centre, full_matrices=False)
    axes = axes[: embedding.PROJECTED]
    signs = np.sign(axes[np.arange(axes.shape[0]), np.abs(axes).argmax(axis=1)])
    return {
        "embed_mean": centre.astype(np.float32),
        "embed_basis": (axes * signs[:, None]).T.astype(np.float32),
    }


def _recall(truth: np.ndarray, guess: np.ndarray) -> dict[str, float | None]:
    out = {}
    for i, name in enumerate(CATEGORIES):
        mask = truth == i
        out[name] = round(float((guess[mask] == i).mean()), 3) if mask.any() else None
    return out


def _neighbours(hidden: np.ndarray, y: np.ndarray, k: int = 10) -> float:
    """Share of the ``k`` nearest (cosine) that have the same class, over every row."""
    if len(y) <= k:
        return float("nan")
    sims = hidden @ hidden.T
    np.fill_diagonal(sims, -np.inf)
    nearest = np.argsort(-sims, axis=1)[:, :k]
    return float((y[nearest] == y[:, None]).mean())


def _embeddings(readings: list, timbre: np.ndarray) -> np.ndarray:
    """The vectors the analyser would store for ``readings`` with their ``timbre`` scalars."""
    return np.array(
        [
            embedding.sound_embedding(r.projected, r.untempered, t)
            for r, t in zip(readings, timbre, strict=True)
        ]
    )


def leave_one_source_out(
    data: dict[str, np.ndarray], *, quiet: bool = False, timbre: np.ndarray | None = None
) -> tuple[dict, np.ndarray, np.ndarray]:
    """Per-source figures, and the held-out probabilities and true labels of the rows from
    ``CALIBRATION_SOURCES``. ``timbre`` (``timbre.shot_scalars``) lets the neighbour figure
    be measured in the stored embedding; without it, in the hidden layer alone."""
    report, held_p, held_y = {}, [], []
    for s, name in enumerate(dataset.SOURCE_NAMES):
        train, test = data["source"] != s, data["source"] == s
        model = category.Model(fit(data["x"][train], data["y"][train]))
        readings = [model.read(row) for row in data["x"][test]]
        p = np.array([[r.probabilities[c] for c in CATEGORIES] for r in readings])
        hidden = np.array([r.hidden for r in readings])
        y, variant, loop = data["y"][test], data["variant"][test], data["loop"][test]
        guess = p.argmax(axis=1)
        clean, shot = variant == 0, ~loop & (variant == 0)
        report[name] = {
            "rows": int(test.sum()),
            "accuracy_rendered": round(float((guess[clean] == y[clean]).mean()), 3),
            "accuracy_processed": round(float((guess[~clean] == y[~clean]).mean()), 3),
            "balanced_accuracy": round(
                float(np.nanmean([v for v in _recall(y, guess).values() if v is not None])), 3
            ),
            "recall": _recall(y, guess),
            "hidden_neighbours": round(_neighbours(hidden[shot], y[shot]), 3),
        }
        report[name]["same_class_neighbours"] = report[name]["hidden_neighbours"]
        if timbre is not None:
            shots = [r for r, keep in zip(readings, shot, strict=True) if keep]
            vectors = _embeddings(shots, timbre[test][shot])
            report[name]["same_class_neighbours"] = round(_neighbours(vectors, y[shot]), 3)
        if not quiet:
            print(name, json.dumps({k: v for k, v in report[name].items() if k != "recall"}))
        if name in CALIBRATION_SOURCES:
            held_p.append(p)
            held_y.append(y)
    return report, np.concatenate(held_p), np.concatenate(held_y)


def _sharpen(p: np.ndarray, temperature: float) -> np.ndarray:
    q = np.power(np.maximum(p, 1e-12), 1.0 / temperature)
    return q / q.sum(axis=1, keepdims=True)


def fit_temperature(p: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature that makes held-out probabilities honest (least log-loss):
    a model sure of itself on sources it was trained on is less so on new ones."""
    grid = np.exp(np.linspace(np.log(0.5), np.log(6.0), 60))
    losses = [-np.log(_sharpen(p, t)[np.arange(y.size), y] + 1e-9).mean() for t in grid]
    return round(float(grid[int(np.argmin(losses))]), 3)


def _misleading(y: np.ndarray) -> np.ndarray:
    """For each true label, another category drawn at random: a file name that misleads."""
    shift = np.random.default_rng(SEED).integers(1, len(CATEGORIES), y.size)
    return (y + shift) % len(CATEGORIES)


def fit_name_odds(p: np.ndarray, y: np.ndarray, right_share: float = RIGHT_NAMES) -> float:
    """The odds multiplier for named categories that maximises the held-out log-likelihood
    when names are right ``right_share`` of the time and name another class otherwise."""
    wrong = _misleading(y)
    best, best_score = 1.0, -np.inf
    for odds in np.exp(np.linspace(0, np.log(100), 60)):
        scores = []
        for named in (y, wrong):
            q = p.copy()
            q[np.arange(y.size), named] *= odds
            q /= q.sum(axis=1, keepdims=True)
            scores.append(np.log(q[np.arange(y.size), y] + 1e-9).mean())
        score = right_share * scores[0] + (1 - right_share) * scores[1]
        if score > best_score:
            best, best_score = float(odds), score
    return round(best, 2)


CARD = """# Category classifier: model card

A multilayer perceptron ({features} inputs, hidden layers {hidden}, 16 outputs)
that reads the category of a sound from `library.analysis.category.features`.
Run with numpy (`library/analysis/category.py`); weights in `category.npz`
({size} kB). Trained {trained} for analyser {version} by
`python -m library.analysis.training` (`make model`): {rows} feature rows,
each clip clean and in {copies} randomly processed copies (repitching,
filters, tilt, saturation, compression, rooms, start trims, fades, low
sample rates and bit depths, Ogg/MP3 round trips, noise floors), layered
drum hits and reversed sounds.

## Sources and licences

| source | Debian package | licence |
|---|---|---|
{sources}

Drum hits are labelled by the General MIDI percussion map and melodic notes
by GM program family (`training/labels.py`); loops are sequenced from the
same instruments. Never used to train, tune or test: `hydrogen-data`,
`hydrogen-drumkits`, `hydrogen-drumkits-effects`, `sonic-pi-samples`,
`lmms-common`, `avldrums.lv2-soundfont` (kept for independent evaluation).

## Validation: leave one source out

Each row trains on every other source and tests on the one named. "As
rendered" are the clean clips, "processed" their augmented copies;
"neighbours" is the share of each one-shot's ten nearest (cosine, in the
stored embedding: class probabilities, projected hidden layer and timbre
scalars; in brackets the second hidden layer alone) of the same class. The
softmax temperature ({temperature}) and the file-name odds ({odds}: a named
category's odds are multiplied by this) were fitted on the held-out
predictions of the sampled soundfonts (not the FM or synthesised sources),
assuming {right_names:.0%} of file names are right.
On those: {audio_alone:.1%} from audio alone, {with_names:.1%} with right
names; a misleading name leaves {kept:.1%} of confident (p >= 0.9) right
readings alone. "other" counts {other_prior} of its trained odds (few
producers' samples are guitars, brass or flutes).

| held out | as rendered | processed | balanced | neighbours |
|---|---|---|---|---|
{loso}

Recall per class on each held-out source:

| class | {source_names} |
|---|{source_rule}
{recall}

## Known weaknesses

- FM (OPL-3) and our own synthesis sound unlike sampled instruments; held
  out, they are read far worse than the sample-based soundfonts, so expect
  weaker results on unusual synthesis.
- Synth leads, keys and "other" tonal instruments (guitars, brass, reeds)
  are confused with each other more than drums are.
- The "sounds like" embedding leans on the class probabilities (half of its
  cosine): on sources unlike the training ones (FM, our synthesis held out)
  its neighbours are a little worse than the hidden layer's alone, because
  the probabilities are wrong more often there. `category.npz` also holds the
  hidden layer's mean and 32 main directions over the training rows
  (`embed_mean`, `embed_basis`), which the embedding projects it on.
- Vocals come from GM choirs and espeak-ng speech only; real vocal chops may
  be read as pads or effects.
- The labels follow General MIDI's families, not a producer's taste: a
  string ensemble is a pad, an organ is keys.
- Sounds unlike anything rendered (pure sine chords with hard edges, some
  synthetic chord loops) can get confident wrong readings, often "fx"; each
  retraining moves such edge cases around, so check `tests/test_classifier.py`
  and `tests/test_analysis.py` after `make model`.
"""


def model_card(summary: dict) -> str:
    """The model card, with the figures of ``summary`` (see ``main``)."""
    loso = summary["leave_one_source_out"]
    names = list(loso)
    recall_rows = []
    for name in CATEGORIES:
        cells = [loso[s]["recall"][name] for s in names]
        recall_rows.append(
            f"| {name} | " + " | ".join("-" if v is None else f"{v:.0%}" for v in cells) + " |"
        )
    return CARD.format(
        features=summary["features"],
        hidden=" and ".join(map(str, HIDDEN)),
        size=category.MODEL_PATH.stat().st_size // 1024,
        trained=summary["trained"],
        version=summary["analyzer_version"],
        rows=summary["rows"],
        copies=summary["copies"],
        sources="\n".join(
            f"| {n} | {v['package']} | {v['licence']} |" for n, v in summary["sources"].items()
        ),
        temperature=summary["temperature"],
        right_names=RIGHT_NAMES,
        audio_alone=summary["names"]["audio_alone"],
        with_names=summary["names"]["with_right_names"],
        kept=summary["names"]["confident_kept_under_misleading_names"],
        other_prior=PRIOR["other"],
        odds=summary["name_odds"],
        loso="\n".join(
            f"| {n} | {r['accuracy_rendered']:.1%} | {r['accuracy_processed']:.1%} | "
            f"{r['balanced_accuracy']:.1%} | {r['same_class_neighbours']:.1%} "
            f"({r.get('hidden_neighbours', r['same_class_neighbours']):.1%}) |"
            for n, r in loso.items()
        ),
        source_names=" | ".join(names),
        source_rule="---|" * len(names),
        recall="\n".join(recall_rows),
    )


def name_figures(p: np.ndarray, y: np.ndarray, odds: float) -> dict[str, float]:
    """Held-out accuracy from audio alone and with a right name, and how many confident
    right readings (p >= 0.9) a misleading name leaves alone."""
    rows = np.arange(y.size)
    wrong = _misleading(y)

    def named(names: np.ndarray) -> np.ndarray:
        q = p.copy()
        q[rows, names] *= odds
        return q.argmax(axis=1)

    confident = (p.argmax(axis=1) == y) & (p.max(axis=1) >= 0.9)
    return {
        "audio_alone": round(float((p.argmax(axis=1) == y).mean()), 3),
        "with_right_names": round(float((named(y) == y).mean()), 3),
        "confident_kept_under_misleading_names": round(
            float((named(wrong)[confident] == y[confident]).mean()), 3
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_dir = Path(os.environ.get("SAMPLEMIND_DATA", "var"))
    parser.add_argument("--cache", type=Path, default=data_dir / "training")
    parser.add_argument("--copies", type=int, default=3, help="augmented copies of each clip")
    parser.add_argument("--skip-validation", action="store_true")
    args = parser.parse_args(argv)
    data = build(args.cache, args.copies)
    print(f"{data['x'].shape[0]} rows of {data['x'].shape[1]} features", flush=True)
    report: dict = {}
    odds, temperature, names = 1.0, 1.0, {}
    if not args.skip_validation:
        scalars = timbre.shot_scalars(data, _features_cache(args.cache, args.copies))
        report, p, y = leave_one_source_out(data, timbre=scalars)
        temperature = fit_temperature(p, y)
        odds = fit_name_odds(_sharpen(p, temperature), y)
        names = name_figures(_sharpen(p, temperature), y, odds)
    arrays = fit(data["x"], data["y"])
    arrays["name_odds"], arrays["temperature"] = np.array(odds), np.array(temperature)
    MODEL_DIR.mkdir(exist_ok=True)
    np.savez_compressed(category.MODEL_PATH, **arrays)
    summary = {
        "analyzer_version": ANALYZER_VERSION,
        "trained": datetime.date.today().isoformat(),  # noqa: DTZ011 - a date for people
        "rows": int(data["x"].shape[0]),
        "features": int(data["x"].shape[1]),
        "copies": args.copies,
        "name_odds": odds,
        "temperature": temperature,
        "names": names,
        "sources": {s.name: {"package": s.package, "licence": s.licence} for s in render.SOUNDFONTS}
        | {"synth": {"package": "this repository + espeak-ng", "licence": "own / GPL-3+"}},
        "leave_one_source_out": report,
    }
    (MODEL_DIR / "category-report.json").write_text(json.dumps(summary, indent=1) + "\n")
    (MODEL_DIR / "MODEL_CARD.md").write_text(model_card(summary))
    print(f"wrote {category.MODEL_PATH} (temperature {temperature}, name odds {odds}, {names})")
