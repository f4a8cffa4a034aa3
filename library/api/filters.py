"""Filters for the sample list: the search filter registry's, so the library and search agree.

Every filter (category, key, bpm, tags, status...) is declared once in
:mod:`search.filters`; here the list only adds its ordering.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from library.models import Sample
from search.filters import SearchFilters, registry


class SampleOrdering(django_filters.FilterSet):
    """The sample list's ``ordering`` parameter (the filters come from the registry)."""

    ordering = django_filters.OrderingFilter(
        fields=(
            "created_at",
            "name",
            "bpm",
            "duration",
            "loudness_lufs",
            "key",
            # Your own marks (organise.selectors.rating_annotations); unrated sorts last.
            ("my_rating", "rating"),
            ("my_favourite", "favourite"),
        )
    )

    class Meta:
        model = Sample
        fields: list[str] = []


def samples_filtered(samples: QuerySet, filters: SearchFilters, *, user) -> QuerySet:
    """``samples`` narrowed by ``filters``, with the registry's ORM conditions."""
    return samples.filter(registry.q(filters, user)) if filters else samples
