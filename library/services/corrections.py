"""The producer's corrections: category, tempo, key and mode, loop or one-shot.

A correction is kept in ``Sample.corrections`` ({field: value}) and written
into the promoted column, so lists, filters, facets and search (whose rows
the database triggers copy from those columns) all see the producer's value.
The analyser's reading stays in ``Sample.descriptors`` and in the analysis
history; re-analysis leaves corrected columns alone (``corrected_columns``),
and resetting a correction brings the reading back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import audit_log_record
from accounts.models import User
from accounts.rbac import has_permission
from library.analysis import CATEGORIES
from library.models import CORRECTABLE, KEY_CHOICES, MODE_CHOICES, Sample, Visibility
from samplemind.errors import NotAllowed, ProductError
from search.cache import generations_bump

BPM_MIN, BPM_MAX = 20.0, 400.0
KEYS = tuple(name for name, _label in KEY_CHOICES)
MODES = tuple(name for name, _label in MODE_CHOICES)
# A corrected value is certain: its confidence column says so, and is protected with it.
CONFIDENCE_OF = {"bpm": "bpm_confidence", "key": "key_confidence"}


def corrected_columns(corrections: dict) -> set[str]:
    """The promoted columns an analysis must not write for these corrections."""
    return {
        column for field in corrections for column in (field, CONFIDENCE_OF.get(field)) if column
    }


def corrections_clean(changes: dict[str, Any], *, reset: Iterable[str] = ()) -> dict[str, Any]:
    """Validated corrections; raises ``ProductError`` naming every bad field.

    ``bpm`` is a number from ``BPM_MIN`` to ``BPM_MAX``, or None for "no
    tempo"; ``key`` one of the twelve names or None for "no key"; ``mode``
    major, minor or None; ``category`` a word of the vocabulary;
    ``is_loop`` true or false. ``reset`` names fields to give back to the analyser.
    """
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field not in CORRECTABLE:
            errors[field] = f"Only {', '.join(CORRECTABLE)} can be corrected."
        elif field == "category":
            if value not in CATEGORIES:
                errors[field] = f"Choose one of: {', '.join(CATEGORIES)}."
        elif field == "is_loop":
            if not isinstance(value, bool):
                errors[field] = "Say true (a loop) or false (a one-shot)."
        elif field == "bpm":
            if value is not None:
                value = _number(value)
                if not BPM_MIN <= value <= BPM_MAX:
                    errors[field] = f"A tempo is from {BPM_MIN:g} to {BPM_MAX:g} BPM (or null)."
        elif field == "key":
            if value is not None and value not in KEYS:
                errors[field] = f"Choose one of: {', '.join(KEYS)} (or null)."
        elif field == "mode":
            if value is not None and value not in MODES:
                errors[field] = "Choose major or minor (or null)."
        cleaned[field] = value
    unknown = [field for field in reset if field not in CORRECTABLE]
    if unknown:
        errors["reset"] = f"Only {', '.join(CORRECTABLE)} can be reset."
    if errors:
        raise ProductError(_summary(errors), details=errors)
    return cleaned


def _number(value: Any) -> float:
    """``value`` as a float; NaN (outside every range) when it is not a number."""
    if isinstance(value, bool):  # JSON true is not 1 BPM
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _summary(errors: dict[str, str]) -> str:
    return " ".join(f"{field}: {message}" for field, message in errors.items())


def _apply(sample: Sample, changes: dict[str, Any], reset: Iterable[str]) -> list[str]:
    """Set ``sample``'s corrections and effective columns in memory; the columns to save."""
    corrections = dict(sample.corrections or {})
    touched = [f for f in CORRECTABLE if f in changes or f in reset]
    for field in reset:
        corrections.pop(field, None)
    corrections.update(changes)
    # A sound with no key has no mode either.
    if changes.get("key", "") is None and "mode" not in changes:
        corrections["mode"] = None
        touched.append("mode")
    machine = sample.descriptors or {}
    columns = ["corrections"]
    for field in touched:
        value = corrections[field] if field in corrections else machine.get(field)
        setattr(sample, field, value)
        columns.append(field)
        if field in CONFIDENCE_OF:
            corrected = None if value is None else 1.0
            confidence = corrected if field in corrections else machine.get(CONFIDENCE_OF[field])
            setattr(sample, CONFIDENCE_OF[field], confidence)
            columns.append(CONFIDENCE_OF[field])
    if sample.mode is not None and sample.key is None:
        raise ProductError(
            "A mode needs a key: correct the key too.",
            details={"mode": "A mode needs a key: correct the key too."},
        )
    sample.corrections = corrections
    return columns


def _check_actor(actor: User) -> None:
    if not has_permission(actor, "audio:edit"):
        raise NotAllowed("Your plan does not include editing samples (audio:edit).")


@transaction.atomic
def sample_correct(
    *, sample: Sample, actor: User, changes: dict[str, Any], reset: Sequence[str] = ()
) -> Sample:
    """Set the producer's ``changes`` (see ``corrections_clean``) and drop those in ``reset``.

    Only the owner may. The row is locked first, so an analysis finishing at
    the same moment either sees the correction or is overwritten by it.
    """
    if sample.owner_id != actor.pk:
        raise NotAllowed("Only the owner can correct this sample.")
    _check_actor(actor)
    cleaned = corrections_clean(changes, reset=reset)
    Sample.objects.select_for_update(no_key=True).filter(pk=sample.pk).values_list("pk").first()
    sample.refresh_from_db(fields=["descriptors", "corrections", *CORRECTABLE])
    updated = _apply(sample, cleaned, reset)
    sample.save(update_fields=[*updated, "updated_at"])
    generations_bump(owner_ids=[sample.owner_id], public=sample.visibility == Visibility.PUBLIC)
    return sample


def samples_correct_bulk(
    *,
    samples: Iterable[Sample],
    actor: User,
    changes: dict[str, Any],
    reset: Sequence[str] = (),
    request: HttpRequest | None = None,
) -> int:
    """Correct many of the actor's samples alike, in one transaction with one audit entry.

    Samples of other owners are left out. Returns how many were corrected.
    """
    _check_actor(actor)
    cleaned = corrections_clean(changes, reset=reset)
    ids = [sample.pk for sample in samples]
    with transaction.atomic():
        locked = list(
            Sample.objects.select_for_update(no_key=True)
            .filter(pk__in=ids, owner=actor)
            .order_by("pk")
            .only("pk", "owner_id", "visibility", "descriptors", "corrections", *CORRECTABLE)
        )
        if not locked:
            return 0
        now = timezone.now()
        updated: set[str] = {"updated_at"}
        for sample in locked:
            updated.update(_apply(sample, cleaned, reset))
            sample.updated_at = now
        # The search triggers copy the columns; cached answers are retired here.
        Sample.objects.bulk_update(locked, sorted(updated))
        generations_bump(
            owner_ids=[actor.pk],
            public=any(s.visibility == Visibility.PUBLIC for s in locked),
        )
        audit_log_record(
            action="samples.corrected",
            actor=actor,
            request=request,
            details={
                "count": len(locked),
                "changes": cleaned,
                "reset": list(reset),
                "sample_ids": [str(s.pk) for s in locked],
            },
        )
    return len(locked)
