"""Favourites and stars: one row per person and sample, written only here."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from library.models import Sample
from organise.models import SampleRating
from search.cache import generations_bump

UNSET = object()


@transaction.atomic
def sample_rate(
    *,
    user: User,
    sample: Sample,
    favourite: bool | object = UNSET,
    rating: int | None | object = UNSET,
) -> SampleRating:
    """Mark ``sample`` a favourite (or not) and/or give it 1-5 stars (None clears them).

    The caller has already checked that ``user`` may open ``sample``; what is
    not passed stays as it was.
    """
    row, _ = SampleRating.objects.select_for_update().get_or_create(user=user, sample=sample)
    if favourite is not UNSET:
        row.favourite = bool(favourite)
    if rating is not UNSET:
        if rating is not None and not 1 <= int(rating) <= 5:
            raise ValueError("rating must be 1-5 or None")
        row.rating = rating
    row.save()
    # Cached searches that filter or count by the caller's marks must not outlive them.
    generations_bump(owner_ids=[user.pk])
    return row
