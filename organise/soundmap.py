"""The sound map: every sample of a library placed in 2D by its timbre embedding.

Principal components of the embeddings (numpy only: no training library at
run time), scaled to 0..1. Neighbours on the map sound alike along the two
directions the library varies most in. The layout is computed in the
background (task ``organise.layout_map``, queued when an analysis finishes or
when a request finds it stale) and stored with the library state it was drawn
from (sample count and last change); requests only read it.
"""

from __future__ import annotations

import logging
from functools import partial

import numpy as np
from celery import current_app
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max

from accounts.models import User
from library.models import Sample, SampleStatus

logger = logging.getLogger(__name__)

# Named, not imported: organise.tasks imports this module.
LAYOUT_MAP_TASK = "organise.layout_map"
CACHE_SECONDS = 24 * 3600
MAX_POINTS = 100_000
# A burst of analyses finishing within this many seconds is drawn once.
QUEUE_COUNTDOWN = 5
QUEUE_GUARD_SECONDS = 60


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


def _analysed(owner_id: int):
    return Sample.objects.filter(
        owner_id=owner_id, status=SampleStatus.READY, embedding__isnull=False
    )


def _state(owner_id: int) -> str:
    state = _analysed(owner_id).aggregate(n=Count("pk"), changed=Max("updated_at"))
    return f"{state['n']}:{state['changed']}"


def _key(owner_id: int) -> str:
    return f"organise:map:{owner_id}"


def layout_store(*, owner_id: int) -> int:
    """Compute the owner's layout and store it with the state it was drawn from; its size."""
    state = _state(owner_id)
    rows = list(
        _analysed(owner_id)
        .order_by("created_at")
        .values_list("pk", "embedding", "category", "name")[:MAX_POINTS]
    )
    positions = layout(np.asarray([r[1] for r in rows], dtype=np.float32)) if rows else []
    points = [
        [str(pk), round(float(x), 4), round(float(y), 4), category or "other", name]
        for (pk, _vector, category, name), (x, y) in zip(rows, positions, strict=True)
    ]
    cache.set(_key(owner_id), {"state": state, "points": points}, CACHE_SECONDS)
    return len(points)


def layout_queue(owner_id: int) -> None:
    """Queue the owner's layout once per burst: analyses finishing together draw it once."""
    if cache.add(f"{_key(owner_id)}:queued", 1, QUEUE_GUARD_SECONDS):
        transaction.on_commit(partial(_send, owner_id))


def _send(owner_id: int) -> None:
    try:
        current_app.send_task(
            LAYOUT_MAP_TASK, args=[owner_id], countdown=QUEUE_COUNTDOWN, ignore_result=True
        )
    except Exception:  # noqa: BLE001 - any broker failure: the next request queues it again
        layout_unqueue(owner_id)
        logger.warning("sound map of %s not queued", owner_id, exc_info=True)


def layout_unqueue(owner_id: int) -> None:
    """The task has started: changes from now on queue another run."""
    cache.delete(f"{_key(owner_id)}:queued")


def map_points(*, owner: User) -> tuple[list[list], bool]:
    """``([id, x, y, category, name] ..., computing)`` for the owner's analysed samples.

    Serves the stored layout; when it is missing or older than the library, queues a
    new one and answers with what it has and ``computing`` true.
    """
    stored = cache.get(_key(owner.pk))
    state = _state(owner.pk)
    if stored is not None and stored["state"] == state:
        return stored["points"], False
    if state.startswith("0:"):  # nothing analysed: nothing to draw
        return [], False
    layout_queue(owner.pk)
    return (stored["points"] if stored is not None else []), True
