"""Sound map: seconds to lay out 10,000 and 100,000 samples by UMAP, beside principal components.

The vectors are 16 clusters of the embedding's size, too many for two principal
axes to keep apart. Principal components (the old layout, and what a library
under 15 samples still gets) are the baseline measured in the same run.
Quality: the share of each point's 10 nearest map neighbours from its own
cluster (1.0: every neighbourhood on the map is one kind of sound). The first
UMAP in a fresh worker also pays numba's compilation (its cache makes later
processes faster): that is timed apart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import numpy as np
from scipy.spatial import cKDTree

from library.analysis import EMBEDDING_DIM
from organise import soundmap


def _clusters(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    centres = rng.standard_normal((16, EMBEDDING_DIM))
    labels = rng.integers(0, 16, n)
    vectors = centres[labels] + 0.6 * rng.standard_normal((n, EMBEDDING_DIM))
    return vectors.astype(np.float32), labels


def _same_cluster_share(positions: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    _, neighbours = cKDTree(positions).query(positions, k + 1)
    return float((labels[neighbours[:, 1:]] == labels[:, None]).mean())


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def run() -> Iterator[str]:
    level = soundmap.logger.level
    soundmap.logger.setLevel(logging.WARNING)  # its "placed in" lines would say the same
    try:
        yield from _figures()
    finally:
        soundmap.logger.setLevel(level)


def _figures() -> Iterator[str]:
    rng = np.random.default_rng(2026)
    # Over 4,096 samples UMAP searches neighbours with pynndescent (below, exactly): the
    # warm-up compiles (or loads from numba's cache) both paths, as a worker's first map does.
    warm, _ = _clusters(rng, 5000)
    soundmap.pca_layout(warm)
    _, first = _timed(soundmap.layout, warm)
    yield f"first UMAP in this process (5,000 samples, with numba's compilation): {first:.1f} s"
    for n in (10_000, 100_000):
        vectors, labels = _clusters(rng, n)
        pca, baseline = _timed(soundmap.pca_layout, vectors)
        umap, took = _timed(soundmap.layout, vectors)
        yield (
            f"{n:,} samples: UMAP {took:.1f} s, baseline PCA {baseline * 1000:.0f} ms "
            f"(x{took / baseline:,.0f})"
        )
        yield (
            f"{n:,} samples: share of 10 map neighbours from the same cluster: UMAP "
            f"{_same_cluster_share(umap, labels):.2f}, PCA {_same_cluster_share(pca, labels):.2f}"
        )
