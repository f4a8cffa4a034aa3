"""Deciding which earlier sound a new one copies: nearest sketches, then the exact distance.

The database finds the candidates (``selectors.duplicate_candidates``); the
benchmark keeps them in memory (``SketchIndex``); both decide through
``closest_copy``, so the benchmark measures the product's rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import numpy as np

from organise import fingerprint as fp

Key = TypeVar("Key")
# Candidates compared exactly per new sound, nearest sketches first.
CANDIDATES = 12
# Sketches further apart than this (cosine distance) are never copies.
SKETCH_RADIUS = 0.35


def closest_copy(
    print_: fp.Fingerprint, candidates: Iterable[tuple[Key, fp.Fingerprint]]
) -> tuple[Key, float] | None:
    """The candidate ``print_`` copies (the closest under the threshold) and its distance."""
    best: tuple[Key, float] | None = None
    for key, other in candidates:
        d = fp.distance(print_, other)
        if d <= fp.DUPLICATE_DISTANCE and (best is None or d < best[1]):
            best = (key, d)
    return best


def sketch_distances(sketch: list[float], sketches: Sequence[Sequence[float]]) -> np.ndarray:
    """The cosine distance of each of ``sketches`` (unit vectors) from ``sketch``."""
    if not len(sketches):
        return np.zeros(0)
    return 1.0 - np.asarray(sketches) @ np.asarray(sketch)


def nearest_sketches(sketch: list[float], sketches: Sequence[Sequence[float]]) -> list[int]:
    """Positions of the CANDIDATES ``sketches`` nearest ``sketch`` within SKETCH_RADIUS."""
    distances = sketch_distances(sketch, sketches)
    nearest = np.argsort(distances, kind="stable")[:CANDIDATES]
    return [int(i) for i in nearest if distances[i] <= SKETCH_RADIUS]


class SketchIndex:
    """An in-memory stand-in for the database's sketch search (benchmarks)."""

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.prints: list[fp.Fingerprint] = []
        # One array, not a list of lists converted again for every search.
        self.sketches = np.zeros((0, fp.SKETCH_DIM))

    def add(self, key: int, print_: fp.Fingerprint) -> None:
        self.keys.append(key)
        self.prints.append(print_)
        self.sketches = np.vstack([self.sketches, fp.sketch(print_)])

    def candidates(self, print_: fp.Fingerprint) -> list[int]:
        return nearest_sketches(fp.sketch(print_), self.sketches)

    def nearest_duplicate(self, print_: fp.Fingerprint) -> int | None:
        found = closest_copy(
            print_, ((self.keys[i], self.prints[i]) for i in self.candidates(print_))
        )
        return None if found is None else found[0]
