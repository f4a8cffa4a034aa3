"""The product's filters, in the order the filter panel shows them.

Each column a filter reads exists on ``library_sample`` and on
``search_sampledocument`` under the same name (the search document mirrors
what filters read); a filter on another column reads it through the sample id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from drf_spectacular.utils import extend_schema_field
from psycopg import sql
from rest_framework import serializers

from library.analysis import CATEGORIES
from library.models import (
    CATEGORY_CHOICES,
    KEY_CHOICES,
    MODE_CHOICES,
    CollectionItem,
    SampleStatus,
    Visibility,
)
from search.filters.base import (
    BooleanFilter,
    Chip,
    ChoiceFilter,
    FacetCount,
    Filter,
    FilterContext,
    RangeFilter,
)
from search.filters.values import SearchFilters
from search.keys import MODES, UnknownKey, camelot, compatible_keys, parse_key

DAY = 86400  # seconds: the longest duration a filter takes
# Tempo bands for the tempo facet: below 60, 60-79, ..., 160-179, 180 and up.
BPM_BAND_EDGES: tuple[int, ...] = (60, 80, 100, 120, 140, 160, 180)
# A band's upper edge is exclusive; bpm_max is inclusive, so a band's link stops just below it.
BAND_TOP_MARGIN = 0.01


def bpm_band(index: int) -> tuple[int | None, int | None, str]:
    """Band ``index`` (0 = below the first edge) as ``(low, high, label)``, high exclusive."""
    edges = BPM_BAND_EDGES
    low = edges[index - 1] if index > 0 else None
    high = edges[index] if index < len(edges) else None
    if low is None:
        return None, high, f"under {high}"
    if high is None:
        return low, None, f"{low}+"
    return low, high, f"{low}\u2013{high - 1}"


def comma_list(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split(",") if part.strip()]


class TempoFilter(RangeFilter):
    """BPM range, with a facet by tempo band."""

    facet = True

    def facet_columns(self, ctx: FilterContext) -> list[sql.Composable]:
        edges = ctx.value(list(map(float, BPM_BAND_EDGES)))
        return [sql.SQL("width_bucket({}, {}::float8[])").format(ctx.column("bpm"), edges)]

    def facet_counts(self, rows: Sequence[tuple[tuple, int]]) -> list[FacetCount]:
        bands = {values[0]: n for values, n in rows if values[0] is not None and n}
        return [
            FacetCount(value={"min": low, "max": high}, count=bands[index], label=label)
            for index in sorted(bands)
            for low, high, label in [bpm_band(index)]
        ]

    def _top(self, value: dict) -> float | None:
        return None if value["max"] is None else round(value["max"] - BAND_TOP_MARGIN, 2)

    def facet_active(self, value: Any, filters: SearchFilters) -> bool:
        return filters.bpm_min == value["min"] and filters.bpm_max == self._top(value)

    def facet_params(self, value: Any, filters: SearchFilters) -> dict[str, Any]:
        if self.facet_active(value, filters):
            return {self.low: None, self.high: None}
        return {self.low: value["min"], self.high: self._top(value)}


# What search.keys.parse_key reads, as an OpenAPI (ECMA) pattern: a Camelot code, or a
# note name with an optional accidental and mode, any case.
KEY_PATTERN = (
    r"^\s*(?:(?:1[0-2]|[1-9])\s*[ABab]|[A-Ga-g][#b♯♭]?\s*"
    r"(?:[Mm][Ii][Nn](?:[Oo][Rr])?|[Mm][Aa][Jj](?:[Oo][Rr])?|[Mm])?)\s*$"
)


@extend_schema_field({"type": "string", "pattern": KEY_PATTERN, "maxLength": 12})
class KeyField(serializers.CharField):
    """A key as people type it; read by ``KeyFilter.clean`` with search.keys.parse_key."""


class KeyFilter(Filter):
    """A key (``Am``, ``F#``, ``8A``), a mode, and optionally the key's Camelot neighbours."""

    widget = "_key_filter.html"
    facet = True

    def fields(self) -> dict[str, Any]:
        return {"key": None, "mode": None, "compatible_keys": False}

    def params(self) -> dict[str, serializers.Field]:
        return {
            "key": KeyField(
                required=False,
                max_length=12,
                help_text="C, F#, Bb, Am, F#m, A minor or a Camelot code (8A).",
            ),
            "mode": serializers.ChoiceField(choices=MODES, required=False),
            "compatible": serializers.BooleanField(
                default=False,
                help_text="With key and mode: also the relative key and a fifth up and down "
                "(the key's Camelot neighbours).",
            ),
        }

    def clean(self, attrs: dict[str, Any]) -> dict[str, Any]:
        key, mode = None, attrs.get("mode")
        if attrs.get("key"):
            try:
                key, key_mode = parse_key(attrs["key"])
            except UnknownKey as exc:
                raise serializers.ValidationError({"key": str(exc)}) from None
            if key_mode and mode and key_mode != mode:
                raise serializers.ValidationError({"mode": f"The key says {key_mode}."})
            mode = key_mode or mode
        compatible = bool(attrs.get("compatible"))
        if compatible and not (key and mode):
            raise serializers.ValidationError(
                {"compatible": "Compatible keys need a key and a mode, e.g. key=Am or key=8A."}
            )
        return {"key": key, "mode": mode, "compatible_keys": compatible}

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        pairs = key_pairs(filters)
        key, mode = ctx.column("key"), ctx.column("mode")
        if pairs:
            either = [
                sql.SQL("({} = {} AND {} = {})").format(key, ctx.value(k), mode, ctx.value(m))
                for k, m in pairs
            ]
            return sql.SQL("({})").format(sql.SQL(" OR ").join(either))
        parts = []
        if filters.key:
            parts.append(sql.SQL("{} = {}").format(key, ctx.value(filters.key)))
        if filters.mode:
            parts.append(sql.SQL("{} = {}").format(mode, ctx.value(filters.mode)))
        return sql.SQL(" AND ").join(parts)

    def q(self, filters: SearchFilters, user: Any) -> Q:
        pairs = key_pairs(filters)
        if pairs:
            either = Q()
            for key, mode in pairs:
                either |= Q(key=key, mode=mode)
            return either
        q = Q()
        if filters.key:
            q &= Q(key=filters.key)
        if filters.mode:
            q &= Q(mode=filters.mode)
        return q

    def facet_columns(self, ctx: FilterContext) -> list[sql.Composable]:
        return [ctx.column("key"), ctx.column("mode")]

    def facet_counts(self, rows: Sequence[tuple[tuple, int]]) -> list[FacetCount]:
        keys = [(key, mode, n) for (key, mode), n in rows if key is not None and n]
        keys.sort(key=lambda item: (-item[2], item[0], item[1] is None, item[1] or ""))
        return [
            FacetCount(
                value={"key": key, "mode": mode},
                count=n,
                label=f"{key} {mode} ({camelot(key, mode)})" if mode else key,
            )
            for key, mode, n in keys
        ]

    def facet_active(self, value: Any, filters: SearchFilters) -> bool:
        return (
            filters.key == value["key"]
            and filters.mode == value["mode"]
            and not filters.compatible_keys
        )

    def facet_params(self, value: Any, filters: SearchFilters) -> dict[str, Any]:
        if self.facet_active(value, filters):
            return {"key": None, "mode": None, "compatible": None}
        return {"key": value["key"], "mode": value["mode"], "compatible": None}

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        return {
            "key": filters.key or raw.get("key", ""),
            "mode": filters.mode or "",
            "compatible": filters.compatible_keys,
            "keys": KEY_CHOICES,
            "modes": MODE_CHOICES,
        }

    def chips(self, filters: SearchFilters) -> list[Chip]:
        text = " ".join(part for part in (filters.key, filters.mode) if part)
        if filters.compatible_keys:
            text += " and compatible keys"
        return [Chip(f"Key: {text}", ("key", "mode", "compatible"))]


def key_pairs(filters: SearchFilters) -> list[tuple[str, str]]:
    """The (key, mode) pairs a "compatible keys" filter accepts; empty for other filters."""
    if filters.key and filters.mode and filters.compatible_keys:
        return list(compatible_keys(filters.key, filters.mode))
    return []


MAX_CATEGORIES = 20


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(CATEGORIES)},
        "maxItems": MAX_CATEGORIES,
    }
)
class CategoryList(serializers.CharField):
    """Categories, comma-separated (``kick,snare``) or the parameter repeated."""


class CategoryFilter(ChoiceFilter):
    """Any of several categories; a facet."""

    list_params = ("category",)

    def fields(self) -> dict[str, Any]:
        return {"categories": ()}

    def params(self) -> dict[str, serializers.Field]:
        return {"category": CategoryList(required=False, max_length=400, help_text="Any of them.")}

    def clean(self, attrs: dict[str, Any]) -> dict[str, Any]:
        categories = comma_list(attrs.get("category") or "")
        if len(categories) > MAX_CATEGORIES:
            raise serializers.ValidationError(
                {"category": f"At most {MAX_CATEGORIES} categories at once."}
            )
        unknown = [name for name in categories if name not in CATEGORIES]
        if unknown:
            raise serializers.ValidationError(
                {
                    "category": f"Unknown categories: {', '.join(unknown)}. "
                    f"Choose from {', '.join(CATEGORIES)}."
                }
            )
        return {"categories": tuple(dict.fromkeys(categories))}

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        column, categories = ctx.column("category"), filters.categories
        # One category as equality, so its partial HNSW index applies.
        if len(categories) == 1:
            return sql.SQL("{} = {}").format(column, ctx.value(categories[0]))
        return sql.SQL("{} = ANY({})").format(column, ctx.value(list(categories)))

    def q(self, filters: SearchFilters, user: Any) -> Q:
        return Q(category__in=filters.categories)

    def facet_active(self, value: Any, filters: SearchFilters) -> bool:
        return tuple(filters.categories) == (value,)

    def facet_params(self, value: Any, filters: SearchFilters) -> dict[str, Any]:
        return {"category": None if self.facet_active(value, filters) else value}

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        return {"values": filters.categories, "choices": self.choices, "multiple": True}

    def chips(self, filters: SearchFilters) -> list[Chip]:
        labels = dict(self.choices)
        return [
            Chip(", ".join(labels.get(name, name) for name in filters.categories), ("category",))
        ]


class TagsFilter(Filter):
    """Samples holding every one of the tags."""

    widget = "_text_filter.html"

    def fields(self) -> dict[str, Any]:
        return {"tags": ()}

    def params(self) -> dict[str, serializers.Field]:
        return {
            "tags": serializers.CharField(
                required=False, max_length=1000, help_text="Comma-separated; every one of them."
            )
        }

    def clean(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"tags": tuple(comma_list(attrs.get("tags") or "")[:30])}

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        return sql.SQL("{} @> {}::varchar[]").format(
            ctx.column("tags"), ctx.value(list(filters.tags))
        )

    def q(self, filters: SearchFilters, user: Any) -> Q:
        return Q(tags__contains=list(filters.tags))

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        return {"value": raw.get("tags", ""), "placeholder": "dark, dusty"}

    def chips(self, filters: SearchFilters) -> list[Chip]:
        return [Chip(f"Tags: {', '.join(filters.tags)}", ("tags",))]


class CollectionFilter(Filter):
    """Samples in one collection the user may see (another's private one holds nothing)."""

    def params(self) -> dict[str, serializers.Field]:
        return {
            "collection": serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
        }

    def clean(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"collection": attrs.get("collection")}

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        return sql.SQL(
            "{} IN (SELECT item.sample_id FROM library_collectionitem item"
            " JOIN library_collection col ON col.id = item.collection_id"
            " WHERE item.collection_id = {} AND (col.visibility = {} OR col.owner_id = {}))"
        ).format(
            ctx.sample_id,
            ctx.value(filters.collection),
            ctx.value(Visibility.PUBLIC.value),
            ctx.value(ctx.user.pk if ctx.user.is_authenticated else None),
        )

    def q(self, filters: SearchFilters, user: Any) -> Q:
        seen = Q(collection__visibility=Visibility.PUBLIC)
        if user.is_authenticated:
            seen |= Q(collection__owner=user)
        items = CollectionItem.objects.filter(seen, collection_id=filters.collection)
        return Q(pk__in=items.values("sample_id"))

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        from library.selectors import collections_owned

        choices = []
        if user.is_authenticated:
            owned = collections_owned(user=user).order_by("name").values_list("pk", "name")
            choices = [(str(pk), name) for pk, name in owned]
        return {"value": raw.get("collection", ""), "choices": choices, "hide_empty": True}

    def chips(self, filters: SearchFilters) -> list[Chip]:
        return [Chip(f"In collection {filters.collection}", ("collection",))]


class StatusFilter(ChoiceFilter):
    """Where analysis stands; the search document has no status, so it asks the sample."""

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        if ctx.on_samples:
            return super().condition(filters, ctx)
        return sql.SQL(
            "EXISTS (SELECT 1 FROM library_sample st WHERE st.id = {} AND st.status = {})"
        ).format(ctx.sample_id, ctx.value(filters.status))


class MineFilter(Filter):
    """Only the caller's own samples (nothing for an anonymous caller)."""

    widget = "_checkbox_filter.html"

    def fields(self) -> dict[str, Any]:
        return {"mine": False}

    def params(self) -> dict[str, serializers.Field]:
        return {"mine": serializers.BooleanField(default=False, help_text="Only your own samples.")}

    def clean(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {"mine": bool(attrs.get("mine"))}

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        if not ctx.user.is_authenticated:
            return sql.SQL("false")
        return sql.SQL("{} = {}").format(ctx.column("owner_id"), ctx.value(ctx.user.pk))

    def q(self, filters: SearchFilters, user: Any) -> Q:
        return Q(owner=user) if user.is_authenticated else Q(pk__in=[])

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        return {"checked": filters.mine}

    def chips(self, filters: SearchFilters) -> list[Chip]:
        return [Chip("Only mine", ("mine",))]


def declare(registry) -> None:
    """Register the product's filters (called once, on the registry's first use)."""
    for item in (
        CategoryFilter("category", label="Category", choices=CATEGORY_CHOICES, facet=True),
        BooleanFilter("is_loop", label="Type", labels=("One-shot", "Loop")),
        TempoFilter("bpm", label="Tempo", minimum=0, maximum=999, unit="BPM"),
        KeyFilter("key", label="Key"),
        RangeFilter("duration", label="Duration", minimum=0, maximum=DAY, unit="s",
                    help_text="Seconds."),
        RangeFilter("loudness", label="Loudness", column="loudness_lufs", minimum=-100,
                    maximum=20, unit="LUFS", help_text="LUFS."),
        TagsFilter("tags", label="Tags"),
        CollectionFilter("collection", label="Collection"),
        ChoiceFilter("visibility", label="Visibility", choices=Visibility.choices),
        StatusFilter("status", label="Status", choices=SampleStatus.choices),
        MineFilter("mine", label="Only mine"),
    ):  # fmt: skip
        registry.register(item)
