"""The sound map: every sample of a library placed in 2D by its timbre embedding.

UMAP over the embeddings with the cosine metric (the distance the rest of the
app uses), seeded so the same library gives the same map; libraries of fewer
than ``SMALL_LIBRARY`` samples, too few for neighbours to mean much, get their
principal components instead. A new layout starts from the stored one, so
adding samples does not reshuffle the map: known samples start where they
were, new ones beside their nearest known neighbour. Every sample takes part
in the fit: at 100,000 that took about a minute on two cores, while fitting a
sample of 20,000 and placing the rest with UMAP's ``transform`` took three
(``make bench``, bench_map).

The layout is computed in the background (task ``organise.layout_map``,
queued when an analysis finishes or when a request finds it stale) and stored
with the library state it was drawn from (sample count and last change);
requests only read it.
"""

from __future__ import annotations

import logging
import time
import warnings
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
# A burst of analyses finishing within this many seconds is drawn once. A library whose map
# takes long waits twice as long as its last drawing between drawings, so a long import does
# not keep a worker on the map; below the broker's visibility timeout (a task waiting for its
# countdown is unacknowledged).
QUEUE_COUNTDOWN = 5
MAX_COUNTDOWN = 90
QUEUE_GUARD_SECONDS = 60

SEED = 19
# Fewer samples than this: principal components (UMAP needs neighbours to learn from).
SMALL_LIBRARY = 15
NEIGHBOURS = 15
# Epochs when starting from the stored map: enough to place new samples and settle their
# neighbours, too few for whole clusters to wander (UMAP's 200-500 would rearrange them).
REFINE_EPOCHS = 100


def layout(vectors: np.ndarray, *, previous: np.ndarray | None = None) -> np.ndarray:
    """(n, d) embeddings -> (n, 2) positions in 0..1, the same for the same input.

    ``previous``: (n, 2) positions of an earlier map, NaN rows for samples new since;
    the layout starts from it so the map keeps its shape as a library grows.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if len(vectors) < SMALL_LIBRARY:
        return pca_layout(vectors)
    return _scaled(umap_layout(vectors, previous=previous))


def pca_layout(vectors: np.ndarray) -> np.ndarray:
    """The two principal components, scaled to 0..1 (one or two points sit in the middle)."""
    if len(vectors) == 0:
        return np.zeros((0, 2))
    if len(vectors) < 3:
        return np.full((len(vectors), 2), 0.5)
    centred = vectors - vectors.mean(axis=0)
    # The top two right singular vectors of the centred data: its principal axes.
    _, _, axes = np.linalg.svd(centred[: min(len(centred), 20_000)], full_matrices=False)
    projected = centred @ axes[:2].T
    # The sign of a singular vector is arbitrary: fix it so the map does not flip.
    projected *= np.where(projected.sum(axis=0) < 0, -1.0, 1.0)
    return _scaled(projected)


def umap_layout(vectors: np.ndarray, *, previous: np.ndarray | None = None) -> np.ndarray:
    """UMAP positions (unscaled) of ``vectors``; see the module's docstring."""
    # Imported here: umap (numba, pynndescent) takes seconds to import, paid by the worker only.
    import umap

    start, refining = _start(vectors, previous)
    reducer = umap.UMAP(
        n_neighbors=min(NEIGHBOURS, len(vectors) - 1),
        metric="cosine",
        init=start,
        n_epochs=REFINE_EPOCHS if refining else None,
        random_state=SEED,
        n_jobs=1,  # a seeded UMAP runs single-threaded anyway; saying so silences its warning
        low_memory=True,
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        # Identical embeddings (exact copies) make UMAP warn about disconnected points.
        warnings.simplefilter("ignore", UserWarning)
        positions = reducer.fit_transform(vectors)
    logger.info(
        "sound map: UMAP placed %d samples in %.1f s", len(vectors), time.perf_counter() - started
    )
    return positions


def _start(vectors: np.ndarray, previous: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """Where UMAP starts, and whether that is the earlier map (new points by their nearest
    known one) rather than the principal components."""
    if previous is None:
        return pca_layout(vectors), False
    known = ~np.isnan(previous).any(axis=1)
    if known.sum() < max(SMALL_LIBRARY, len(vectors) // 2):
        return pca_layout(vectors), False  # mostly new: the old map says little
    start = previous.astype(np.float32, copy=True)
    new = np.flatnonzero(~known)
    if len(new):
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        old = np.flatnonzero(known)
        known_unit = unit[old]
        rows = max(1, 5_000_000 // len(old))  # similarity blocks of about 20 MB
        for first in range(0, len(new), rows):
            chunk = new[first : first + rows]
            start[chunk] = previous[old[np.argmax(unit[chunk] @ known_unit.T, axis=1)]]
    return start, True


def _scaled(points: np.ndarray) -> np.ndarray:
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    return (points - low) / span


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
    vectors = np.asarray([r[1] for r in rows], dtype=np.float32)
    started = time.perf_counter()
    positions = layout(vectors, previous=_previous(owner_id, rows)) if rows else []
    cache.set(f"{_key(owner_id)}:seconds", time.perf_counter() - started, CACHE_SECONDS)
    points = [
        [str(pk), round(float(x), 4), round(float(y), 4), category or "other", name]
        for (pk, _vector, category, name), (x, y) in zip(rows, positions, strict=True)
    ]
    cache.set(_key(owner_id), {"state": state, "points": points}, CACHE_SECONDS)
    return len(points)


def _previous(owner_id: int, rows: list) -> np.ndarray | None:
    """The stored map's positions for ``rows`` (NaN for samples it does not have)."""
    stored = cache.get(_key(owner_id))
    if not stored:
        return None
    where = {point[0]: point[1:3] for point in stored["points"]}
    return np.array([where.get(str(row[0]), (np.nan, np.nan)) for row in rows], dtype=np.float32)


def layout_queue(owner_id: int) -> None:
    """Queue the owner's layout once per burst: analyses finishing together draw it once."""
    countdown = layout_countdown(owner_id)
    if cache.add(f"{_key(owner_id)}:queued", 1, countdown + QUEUE_GUARD_SECONDS):
        transaction.on_commit(partial(_send, owner_id, countdown))


def layout_countdown(owner_id: int) -> int:
    """Seconds the next drawing waits: twice the last one's length, within bounds."""
    last = cache.get(f"{_key(owner_id)}:seconds") or 0
    return round(min(MAX_COUNTDOWN, max(QUEUE_COUNTDOWN, 2 * last)))


def _send(owner_id: int, countdown: int) -> None:
    try:
        current_app.send_task(
            LAYOUT_MAP_TASK, args=[owner_id], countdown=countdown, ignore_result=True
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
