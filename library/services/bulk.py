"""The library's bulk actions on ticked samples: one call, one transaction, audited.

A failure part-way (a sample someone else owns, a full collection) rolls the
whole change back, so the producer never has to work out which half happened.
Downloading the ticked samples as a zip is a response, not a change, and stays
with the page.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.http import HttpRequest

from accounts.audit import audit_log_record
from accounts.models import User
from library.models import Collection, Sample
from library.services.collections import collection_add_samples
from library.services.corrections import samples_correct_bulk
from library.services.samples import sample_delete, sample_update
from samplemind.errors import ProductError

ACTIONS = ("tag", "collect", "category", "loop", "oneshot", "delete")


def samples_bulk_act(
    *,
    actor: User,
    samples: Sequence[Sample],
    action: str,
    tags: str = "",
    collection: Collection | None = None,
    category: str | None = None,
    request: HttpRequest | None = None,
) -> str:
    """Apply ``action`` to the actor's ``samples`` at once; return what to tell them.

    ``tags`` is the comma-separated text typed for "tag"; ``collection`` one of
    the actor's collections for "collect"; ``category`` the label for
    "category". Raises ``ProductError`` (nothing changed) when the request is
    incomplete or not allowed.
    """
    if not samples:
        raise ProductError("Tick at least one sample first.")
    if action not in ACTIONS:
        raise ProductError("Choose what to do with the ticked samples.")
    count = len(samples)
    with transaction.atomic():
        if action == "tag":
            new = [t.strip() for t in tags.split(",") if t.strip()]
            if not new:
                raise ProductError("Type the tags to add, separated by commas.")
            for sample in samples:
                sample_update(sample=sample, actor=actor, tags=[*sample.tags, *new])
            audit_log_record(
                action="samples.tagged",
                actor=actor,
                request=request,
                details={"count": count, "tags": new, "sample_ids": [str(s.pk) for s in samples]},
            )
            return f"Tagged {count} sample(s)."
        if action == "collect":
            if collection is None or collection.owner_id != actor.pk:
                raise ProductError("Choose one of your collections.")
            collection_add_samples(
                collection=collection, actor=actor, sample_ids=[str(s.pk) for s in samples]
            )
            return f"Added {count} sample(s) to “{collection.name}”."
        if action == "delete":
            for sample in samples:
                sample_delete(sample=sample, actor=actor, request=request)
            return f"Deleted {count} sample(s)."
        changes = {"category": category} if action == "category" else {"is_loop": action == "loop"}
        corrected = samples_correct_bulk(
            samples=samples, actor=actor, changes=changes, request=request
        )
        return f"Corrected {corrected} sample(s)."
