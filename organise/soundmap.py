"""The sound map: every sample of a library placed in 2D by its timbre embedding.

Principal components of the embeddings (numpy only: no training library at
run time), scaled to 0..1. Neighbours on the map sound alike along the two
directions the library varies most in; the layout is cached per library
state (sample count and last change) and computed again when that changes.
"""

from __future__ import annotations

import numpy as np
from django.core.cache import cache
from django.db.models import Count, Max

from accounts.models import User
from library.models import Sample, SampleStatus

CACHE_SECONDS = 24 * 3600
MAX_POINTS = 100_000


def layout(vectors: np.ndarray) -> np.ndarray:
    """(n, d) embeddings -> (n, 2) positions in 0..1 (PCA; a single point sits in the middle)."""
    if len(vectors) == 0:
        return np.zeros((0, 2))
    centred = vectors - vectors.mean(axis=0)
    if len(vectors) < 3:
        return np.full((len(vectors), 2), 0.5)
    # The top two right singular vectors of the centred data: its principal axes.
    _, _, axes = np.linalg.svd(centred[: min(len(centred), 20_000)], full_matrices=False)
    projected = centred @ axes[:2].T
    low, high = projected.min(axis=0), projected.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    return (projected - low) / span


def map_points(*, owner: User) -> list[list]:
    """``[id, x, y, category, name]`` for each analysed sample of the owner (theirs only)."""
    samples = Sample.objects.filter(owner=owner, status=SampleStatus.READY, embedding__isnull=False)
    state = samples.aggregate(n=Count("pk"), changed=Max("updated_at"))
    key = f"organise:map:{owner.pk}:{state['n']}:{state['changed']}"
    found = cache.get(key)
    if found is not None:
        return found
    rows = list(
        samples.order_by("created_at").values_list("pk", "embedding", "category", "name")[
            :MAX_POINTS
        ]
    )
    if not rows:
        return []
    positions = layout(np.asarray([r[1] for r in rows], dtype=np.float32))
    found = [
        [str(pk), round(float(x), 4), round(float(y), 4), category or "other", name]
        for (pk, _vector, category, name), (x, y) in zip(rows, positions, strict=True)
    ]
    cache.set(key, found, CACHE_SECONDS)
    return found
