"""Background work of the organise app: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task

from organise.services.duplicates import fingerprints_backfill
from organise.soundmap import LAYOUT_MAP_TASK, layout_store, layout_unqueue

# Samples fingerprinted per scheduled run; the next run goes on where this one stopped.
BACKFILL_PER_RUN = 2000


@shared_task(name="organise.backfill_fingerprints", ignore_result=True)
def backfill_fingerprints(owner_id: int | None = None) -> int:
    """Fingerprint samples stored without one (all owners, or one)."""
    from accounts.models import User

    owner = User.objects.filter(pk=owner_id).first() if owner_id is not None else None
    if owner_id is not None and owner is None:
        return 0
    return fingerprints_backfill(owner=owner, limit=BACKFILL_PER_RUN)


@shared_task(
    name=LAYOUT_MAP_TASK,
    ignore_result=True,
    # UMAP over a large library takes minutes: acknowledged on receipt, so it never outlasts
    # the broker's visibility timeout unacknowledged (a lost run is queued by the next change
    # or the next visit of the map).
    acks_late=False,
    soft_time_limit=30 * 60,
    time_limit=31 * 60,
)
def layout_map(owner_id: int) -> int:
    """Draw and store the owner's sound map (see organise.soundmap)."""
    layout_unqueue(owner_id)
    return layout_store(owner_id=owner_id)
