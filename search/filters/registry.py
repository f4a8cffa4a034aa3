"""The registry of filters, and everything derived from it."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from psycopg import sql
from rest_framework import serializers

from search.filters.base import Chip, Filter, FilterContext
from search.filters.values import SearchFilters

DECLARATIONS = "search.filters.declared"


class FilterParams(serializers.Serializer):
    """Every registered filter's request parameters (see ``FilterRegistry.serializer_class``).

    ``validate`` hands each filter its own validated parameters and collects
    what they say is wrong, so the error names every bad parameter at once.
    """

    registry: FilterRegistry

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for item in self.registry:
            try:
                values |= item.clean(attrs)
            except serializers.ValidationError as exc:
                detail = exc.detail if isinstance(exc.detail, dict) else {item.name: exc.detail}
                errors |= detail
        if errors:
            raise serializers.ValidationError(errors)
        return {**attrs, "_filters": SearchFilters(**values)}

    def filters(self) -> SearchFilters:
        return self.validated_data["_filters"]


@dataclass
class Parsed:
    """Filters read from a page's query string, and what was wrong (left out) by parameter."""

    filters: SearchFilters
    problems: dict[str, str] = field(default_factory=dict)
    raw: dict[str, str] = field(default_factory=dict)


class FilterRegistry:
    """Filters by name, in the order they were registered (the panel's order)."""

    def __init__(self, declarations: str | None = DECLARATIONS) -> None:
        self._filters: dict[str, Filter] = {}
        self._declarations = declarations
        self._loaded = declarations is None
        self._version = 0
        self._built: dict[str, tuple[int, Any]] = {}

    # -- declaring
    def register(self, item: Filter) -> Filter:
        self._load()
        taken = set(self.fields()) | set(self.param_names())
        clashes = (set(item.fields()) | set(item.params())) & taken
        if item.name in self._filters or clashes:
            raise ValueError(f"A filter already uses {sorted(clashes) or item.name}.")
        self._filters[item.name] = item
        self._version += 1
        return item

    def unregister(self, name: str) -> None:
        self._load()
        del self._filters[name]
        self._version += 1

    @contextlib.contextmanager
    def declared(self, item: Filter) -> Iterator[Filter]:
        """``item`` registered for the duration of a ``with`` block (tests)."""
        self.register(item)
        try:
            yield item
        finally:
            self.unregister(item.name)

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True  # first, as the declarations call register()
            importlib.import_module(self._declarations).declare(self)

    def __iter__(self) -> Iterator[Filter]:
        self._load()
        return iter(list(self._filters.values()))

    def __getitem__(self, name: str) -> Filter:
        self._load()
        return self._filters[name]

    def _cached(self, what: str, build):
        self._load()
        known = self._built.get(what)
        if known is None or known[0] != self._version:
            known = (self._version, build())
            self._built[what] = known
        return known[1]

    # -- derived: fields and parameters
    def fields(self) -> dict[str, Any]:
        """Every :class:`SearchFilters` field with its default."""
        return self._cached("fields", lambda: {k: v for f in self for k, v in f.fields().items()})

    def param_names(self) -> list[str]:
        return self._cached("params", lambda: [name for f in self for name in f.params()])

    def list_params(self) -> frozenset[str]:
        return self._cached("lists", lambda: frozenset(n for f in self for n in f.list_params))

    def serializer_class(self, base: type[serializers.Serializer] = FilterParams) -> type:
        """A serializer of every filter's parameters (for validation and OpenAPI)."""

        def build():
            attrs: dict[str, Any] = {"registry": self, "__module__": __name__}
            for item in self:
                attrs |= item.params()
            return type(base.__name__, (base,), attrs)

        return self._cached(f"serializer:{base.__module__}.{base.__qualname__}", build)

    def query_params(self, data: Mapping, *, blanks: bool = True) -> dict[str, str]:
        """A request's filter parameters as a plain dict.

        Repeatable parameters (``category=kick&category=snare``) are joined with
        commas. ``blanks=False`` leaves out empty values, as a page's "Any" sends them.
        """
        names, lists, params = set(self.param_names()), self.list_params(), {}
        getlist = getattr(data, "getlist", None)
        for name in data:
            if name not in names:
                continue
            values = getlist(name) if getlist else [data[name]]
            values = [str(value) for value in values if blanks or str(value).strip()]
            if values:
                params[name] = ",".join(values) if name in lists else values[-1]
        return params

    def parse(self, data: Mapping) -> SearchFilters:
        """The filters of a request; raises DRF's ``ValidationError`` (a 400 in the API)."""
        checked = self.serializer_class()(data=self.query_params(data))
        checked.is_valid(raise_exception=True)
        return checked.filters()

    def parse_leniently(self, data: Mapping) -> Parsed:
        """The filters of a page's query string; a bad parameter is left out and reported.

        One typo never hides the results of the other filters.
        """
        raw = self.query_params(data, blanks=False)
        params, problems = dict(raw), {}
        for _attempt in range(len(params) + 1):
            checked = self.serializer_class()(data=params)
            if checked.is_valid():
                return Parsed(checked.filters(), problems, raw)
            errors = {name: " ".join(map(str, errs)) for name, errs in checked.errors.items()}
            problems.update(errors)
            if not any(name in params for name in errors):
                break  # an error no parameter explains: no filters
            for name in errors:
                params.pop(name, None)
        return Parsed(SearchFilters(), problems, raw)

    # -- derived: conditions
    def conditions(self, filters: SearchFilters, ctx: FilterContext) -> dict[str, sql.Composable]:
        """Each active filter's SQL condition, by filter name."""
        found = {}
        for item in self:
            if item.active(filters):
                condition = item.condition(filters, ctx)
                if condition is not None:
                    found[item.name] = condition
        return found

    def q(self, filters: SearchFilters, user: Any) -> Q:
        """Every active filter's condition over ``library.Sample``, for the ORM."""
        q = Q()
        for item in self:
            if item.active(filters):
                q &= item.q(filters, user)
        return q

    def faceted(self) -> list[Filter]:
        return [item for item in self if item.facet]

    def chips(self, filters: SearchFilters) -> list[Chip]:
        return [chip for item in self if item.active(filters) for chip in item.chips(filters)]


registry = FilterRegistry()
