"""What a filter declares, and the kinds of filter most declarations are made of.

A :class:`Filter` turns request parameters into :class:`SearchFilters`
fields (:meth:`~Filter.params`, :meth:`~Filter.clean`), those fields into a
SQL condition (:meth:`~Filter.condition`, ``psycopg.sql``, every value a
placeholder) and an ORM one (:meth:`~Filter.q`), and says how it shows on a
page (:attr:`~Filter.widget`, :meth:`~Filter.widget_context`,
:meth:`~Filter.chips`) and, when it has one, its facet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from psycopg import sql
from rest_framework import serializers

from search.filters.values import SearchFilters


@dataclass
class FacetCount:
    value: Any
    count: int
    label: str = ""


@dataclass
class FilterContext:
    """Where a filter's SQL condition is placed, and the statement's parameters.

    ``alias`` names the table: ``library_sample`` when ``on_samples``, else
    ``search_sampledocument`` (both name the filtered columns the same).
    ``id_column`` is its sample id column. Values go into ``params`` through
    :meth:`value`, which returns their placeholder.
    """

    user: Any
    alias: str
    id_column: str
    on_samples: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> sql.Identifier:
        return sql.Identifier(self.alias, name)

    @property
    def sample_id(self) -> sql.Identifier:
        return sql.Identifier(self.alias, self.id_column)

    def value(self, value: Any) -> sql.Placeholder:
        name = f"{self.alias}_f{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)


@dataclass
class Chip:
    """An active filter as a removable chip: its text, and the parameters removing it clears."""

    label: str
    clears: tuple[str, ...]


class Filter:
    """One filter. Subclasses say what it reads and how; the registry derives the rest.

    ``name`` keys its facet and its place in the filter panel; ``label`` is
    what people read. ``facet`` says whether matches are counted by its
    values (see :meth:`facet_columns`).
    """

    widget = "_choice_filter.html"
    facet = False
    list_params: tuple[str, ...] = ()  # parameters that may repeat (joined with commas)

    def __init__(self, name: str, *, label: str, help_text: str = "") -> None:
        self.name = name
        self.label = label
        self.help_text = help_text

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    # -- request parameters
    def fields(self) -> dict[str, Any]:
        """The :class:`SearchFilters` fields this filter fills, with their defaults."""
        return {self.name: None}

    def params(self) -> dict[str, serializers.Field]:
        """The request parameters (DRF fields): validation and the OpenAPI schema come from them."""
        raise NotImplementedError("subclasses of Filter must provide params()")

    def clean(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Validated parameters -> this filter's fields. Raise ``ValidationError({param: msg})``."""
        return {self.name: attrs.get(self.name)}

    # -- conditions
    def active(self, filters: SearchFilters) -> bool:
        defaults = self.fields()
        return any(getattr(filters, name) != default for name, default in defaults.items())

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable | None:
        """The SQL condition for ``filters`` (only called when :meth:`active`)."""
        raise NotImplementedError("subclasses of Filter must provide condition()")

    def q(self, filters: SearchFilters, user: Any) -> Q:
        """The same condition over ``library.Sample`` for the ORM (only called when active)."""
        raise NotImplementedError("subclasses of Filter must provide q()")

    # -- facets
    def facet_columns(self, ctx: FilterContext) -> list[sql.Composable]:
        """Expressions whose distinct values the facet counts (when ``facet``)."""
        return []

    def facet_counts(self, rows: Sequence[tuple[tuple, int]]) -> list[FacetCount]:
        """``(values of facet_columns, count)`` rows -> the facet's counts, best first."""
        return []

    def facet_params(self, value: Any, filters: SearchFilters) -> dict[str, Any] | None:
        """Parameter changes that narrow to a facet value, or ``None`` to remove it (active)."""
        return {}

    def facet_active(self, value: Any, filters: SearchFilters) -> bool:
        return False

    # -- the page
    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        """What :attr:`widget` renders: the current values (as typed, when invalid)."""
        return {"value": raw.get(self.name, "")}

    def chips(self, filters: SearchFilters) -> list[Chip]:
        """The active filter as removable chips."""
        return [Chip(f"{self.label}: {getattr(filters, self.name)}", (self.name,))]


def _number_field(minimum: float | None, maximum: float | None, help_text: str):
    return serializers.FloatField(
        required=False, min_value=minimum, max_value=maximum, help_text=help_text
    )


def _number(value: float) -> str:
    return f"{value:g}"


class RangeFilter(Filter):
    """A number between ``<name>_min`` and ``<name>_max`` (inclusive) on ``column``."""

    widget = "_range_filter.html"

    def __init__(
        self,
        name: str,
        *,
        label: str,
        column: str | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        unit: str = "",
        help_text: str = "",
    ) -> None:
        super().__init__(name, label=label, help_text=help_text)
        self.column = column or name
        self.minimum, self.maximum, self.unit = minimum, maximum, unit
        self.low, self.high = f"{name}_min", f"{name}_max"

    def fields(self) -> dict[str, Any]:
        return {self.low: None, self.high: None}

    def params(self) -> dict[str, serializers.Field]:
        text = self.help_text or (f"{self.unit}." if self.unit else "")
        return {
            self.low: _number_field(self.minimum, self.maximum, text),
            self.high: _number_field(self.minimum, self.maximum, text),
        }

    def clean(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get(self.low), attrs.get(self.high)
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({self.low: f"{self.low} is above {self.high}."})
        return {self.low: low, self.high: high}

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        parts = []
        low, high = getattr(filters, self.low), getattr(filters, self.high)
        if low is not None:
            parts.append(sql.SQL("{} >= {}").format(ctx.column(self.column), ctx.value(low)))
        if high is not None:
            parts.append(sql.SQL("{} <= {}").format(ctx.column(self.column), ctx.value(high)))
        return sql.SQL(" AND ").join(parts)

    def q(self, filters: SearchFilters, user: Any) -> Q:
        q = Q()
        low, high = getattr(filters, self.low), getattr(filters, self.high)
        if low is not None:
            q &= Q(**{f"{self.column}__gte": low})
        if high is not None:
            q &= Q(**{f"{self.column}__lte": high})
        return q

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        return {
            "low": raw.get(self.low, ""),
            "high": raw.get(self.high, ""),
            "minimum": "" if self.minimum is None else _number(self.minimum),
            "maximum": "" if self.maximum is None else _number(self.maximum),
            "unit": self.unit,
        }

    def chips(self, filters: SearchFilters) -> list[Chip]:
        low, high = getattr(filters, self.low), getattr(filters, self.high)
        unit = f" {self.unit}" if self.unit else ""
        if low is not None and high is not None:
            text = f"{_number(low)}–{_number(high)}{unit}"
        elif low is not None:
            text = f"≥ {_number(low)}{unit}"
        else:
            text = f"≤ {_number(high)}{unit}"
        return [Chip(f"{self.label} {text}", (self.low, self.high))]


class ChoiceFilter(Filter):
    """One of ``choices`` (``(value, label)`` pairs), equal to ``column``; optionally a facet."""

    def __init__(
        self,
        name: str,
        *,
        label: str,
        choices: Sequence[tuple[str, str]],
        column: str | None = None,
        facet: bool = False,
        help_text: str = "",
    ) -> None:
        super().__init__(name, label=label, help_text=help_text)
        self.choices = list(choices)
        self.column = column or name
        self.facet = facet

    def params(self) -> dict[str, serializers.Field]:
        return {
            self.name: serializers.ChoiceField(
                choices=self.choices, required=False, help_text=self.help_text
            )
        }

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        value = getattr(filters, self.name)
        return sql.SQL("{} = {}").format(ctx.column(self.column), ctx.value(value))

    def q(self, filters: SearchFilters, user: Any) -> Q:
        return Q(**{self.column: getattr(filters, self.name)})

    def facet_columns(self, ctx: FilterContext) -> list[sql.Composable]:
        return [ctx.column(self.column)]

    def facet_counts(self, rows: Sequence[tuple[tuple, int]]) -> list[FacetCount]:
        labels = dict(self.choices)
        counts = [(values[0], n) for values, n in rows if values[0] is not None and n]
        counts.sort(key=lambda item: (-item[1], str(item[0])))
        return [FacetCount(value, n, labels.get(value, str(value))) for value, n in counts]

    def facet_params(self, value: Any, filters: SearchFilters) -> dict[str, Any]:
        return {self.name: None if self.facet_active(value, filters) else value}

    def facet_active(self, value: Any, filters: SearchFilters) -> bool:
        return getattr(filters, self.name) == value

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        return {"value": raw.get(self.name, ""), "choices": self.choices}

    def chips(self, filters: SearchFilters) -> list[Chip]:
        value = getattr(filters, self.name)
        return [Chip(f"{self.label}: {dict(self.choices).get(value, value)}", (self.name,))]


class BooleanFilter(Filter):
    """Yes, no, or either; ``labels`` name the two answers (``("One-shot", "Loop")``)."""

    def __init__(
        self,
        name: str,
        *,
        label: str,
        labels: tuple[str, str] = ("No", "Yes"),
        column: str | None = None,
        help_text: str = "",
    ) -> None:
        super().__init__(name, label=label, help_text=help_text)
        self.labels = labels
        self.column = column or name

    def params(self) -> dict[str, serializers.Field]:
        return {
            self.name: serializers.BooleanField(
                allow_null=True, default=None, help_text=self.help_text
            )
        }

    def condition(self, filters: SearchFilters, ctx: FilterContext) -> sql.Composable:
        column = ctx.column(self.column)
        return column if getattr(filters, self.name) else sql.SQL("NOT {}").format(column)

    def q(self, filters: SearchFilters, user: Any) -> Q:
        return Q(**{self.column: getattr(filters, self.name)})

    def widget_context(self, filters: SearchFilters, raw: dict[str, str], user: Any) -> dict:
        value = getattr(filters, self.name)
        current = "" if value is None else ("true" if value else "false")
        return {
            "value": current,
            "choices": [("false", self.labels[0]), ("true", self.labels[1])],
        }

    def chips(self, filters: SearchFilters) -> list[Chip]:
        return [Chip(self.labels[bool(getattr(filters, self.name))], (self.name,))]
