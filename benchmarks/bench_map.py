"""Sound map: seconds to lay out 10,000 and 100,000 samples (PCA of their 64-number embeddings).

The vectors are random clusters of the embedding's size (the layout's cost
does not depend on what they hold); a matrix product of the same data
stands beside it as the baseline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from library.analysis import EMBEDDING_DIM
from organise.soundmap import layout


def run() -> Iterator[str]:
    rng = np.random.default_rng(2026)
    layout(rng.standard_normal((500, EMBEDDING_DIM)))  # warm the linear algebra up
    for n in (10_000, 100_000):
        centres = rng.standard_normal((16, EMBEDDING_DIM))
        vectors = centres[rng.integers(0, 16, n)] + 0.3 * rng.standard_normal((n, EMBEDDING_DIM))
        vectors = vectors.astype(np.float32)
        started = time.perf_counter()
        layout(vectors)
        took = time.perf_counter() - started
        started = time.perf_counter()
        _ = vectors.T @ vectors
        baseline = time.perf_counter() - started
        yield f"{n:,} samples: layout {took * 1000:.0f} ms (baseline X^T X {baseline * 1e3:.1f} ms)"
