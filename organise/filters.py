"""Favourite and star filters, declared in the search filter registry (search.filters).

Both are the caller's own marks: another person's favourites and stars are
never read, and an anonymous caller has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from psycopg import sql
from rest_framework import serializers

from search.filters.base import Chip, FacetCount, Filter, FilterContext, RangeFilter
from search.filters.values import SearchFilters


def _mine(ctx: FilterContext, condition: sql.Composable) -> sql.Composable:
    if not ctx.user.is_authenticated:
        return sql.SQL("false")
    return sql.SQL(
        "EXISTS (SELECT 1 FROM organise_samplerating mark"
        " WHERE mark.sample_id = {} AND mark.user_id = {} AND {})"
    ).format(ctx.sample_id, ctx.value(ctx.user.pk), condition)


def _marked(user: Any, **conditions: Any) -> Q:
    from organise.models import SampleRating

    if not user.is_authenticated:
        return Q(pk__in=[])
    marked = SampleRating.objects.filter(user=user, **conditions)
    return Q(pk__in=marked.values("sample_id"))


class FavouriteFilter(Filter):
    """Only the caller's favourites."""

    widget = "_checkbox_filter.html"

    def fields(self) -> dict[str, Any]:
        return {"favourite": False}

    def params(self) -> dict[str, serializers.Field]:
        return {
            "favourite": serializers.BooleanField(default=False, help_text="Only your favourites.")
        }

    def clean(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"favourite": bool(attrs.get("favourite"))}

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        return _mine(ctx, sql.SQL("mark.favourite"))

    def q(self, filters: SearchFilters, user: Any) -> Q:
        return _marked(user, favourite=True)

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        return {"checked": filters.favourite}

    def chips(self, filters: SearchFilters) -> list[Chip]:
        return [Chip("Favourites", ("favourite",))]


class RatingFilter(RangeFilter):
    """The caller's stars between ``rating_min`` and ``rating_max``, with a facet by stars."""

    facet = True

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        parts = []
        if filters.rating_min is not None:
            parts.append(sql.SQL("mark.rating >= {}").format(ctx.value(filters.rating_min)))
        if filters.rating_max is not None:
            parts.append(sql.SQL("mark.rating <= {}").format(ctx.value(filters.rating_max)))
        return _mine(ctx, sql.SQL(" AND ").join(parts))

    def q(self, filters: SearchFilters, user: Any) -> Q:
        conditions = {}
        if filters.rating_min is not None:
            conditions["rating__gte"] = filters.rating_min
        if filters.rating_max is not None:
            conditions["rating__lte"] = filters.rating_max
        return _marked(user, **conditions)

    def facet_columns(self, ctx: FilterContext) -> list[sql.Composable]:
        if not ctx.user.is_authenticated:
            return [sql.SQL("NULL::smallint")]
        return [
            sql.SQL(
                "(SELECT mark.rating FROM organise_samplerating mark"
                " WHERE mark.sample_id = {} AND mark.user_id = {})"
            ).format(ctx.sample_id, ctx.value(ctx.user.pk))
        ]

    def facet_counts(self, rows: Sequence[tuple[tuple, int]]) -> list[FacetCount]:
        stars = {values[0]: n for values, n in rows if values[0] is not None and n}
        return [
            FacetCount(value=value, count=stars[value], label="★" * value)
            for value in sorted(stars, reverse=True)
        ]

    def facet_active(self, value: Any, filters: SearchFilters) -> bool:
        return filters.rating_min == value and filters.rating_max == value

    def facet_params(self, value: Any, filters: SearchFilters) -> dict[str, Any]:
        if self.facet_active(value, filters):
            return {self.low: None, self.high: None}
        return {self.low: value, self.high: value}

    def chips(self, filters: SearchFilters) -> list[Chip]:
        low, high = filters.rating_min, filters.rating_max
        if low is not None and low == high:
            text = f"{low:g} stars"
        else:
            text = f"{low or 1:g}-{high or 5:g} stars"
        return [Chip(text, (self.low, self.high))]


def declare(registry) -> None:
    """Register the favourite and star filters (OrganiseConfig.ready)."""
    if "favourite" in registry.fields():
        return
    registry.register(FavouriteFilter("favourite", label="Favourites only"))
    registry.register(
        RatingFilter("rating", label="Stars", minimum=1, maximum=5, help_text="Your stars, 1-5.")
    )
