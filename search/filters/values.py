"""SearchFilters: the parsed values of the declared filters, immutable and hashable."""

from __future__ import annotations

from typing import Any


class SearchFilters:
    """Narrowing conditions by field name; a field left out (or at its default) means "any".

    The fields are those the registry's filters declare
    (:meth:`search.filters.base.Filter.fields`): ``SearchFilters(bpm_min=90,
    categories=("kick",))``. Reading a declared field that was not given
    returns its default; an undeclared one raises, naming where to declare it.
    """

    __slots__ = ("_items", "_values")

    def __init__(self, **values: Any) -> None:
        defaults = _fields()
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise TypeError(
                f"Unknown filter field(s) {', '.join(unknown)}: declare a filter for them with "
                "search.filters.registry.register() (the product's are in search.filters.declared)."
            )
        items = ((name, value) for name, value in values.items() if value != defaults[name])
        object.__setattr__(self, "_items", tuple(sorted(items)))
        object.__setattr__(self, "_values", dict(self._items))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._values:
            return self._values[name]
        defaults = _fields()
        if name in defaults:
            return defaults[name]
        raise AttributeError(f"SearchFilters has no field {name!r}; no declared filter names it.")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("SearchFilters is immutable; use replace()")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchFilters) and self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __bool__(self) -> bool:
        """True when any filter narrows anything."""
        return bool(self._items)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in self._items)
        return f"SearchFilters({inner})"

    def __reduce__(self):
        return (_restore, (self._items,))

    def as_dict(self) -> dict[str, Any]:
        """The fields that differ from their defaults (what the cache key hashes)."""
        return dict(self._items)

    def replace(self, **changes: Any) -> SearchFilters:
        return SearchFilters(**{**self.as_dict(), **changes})


def _restore(items: tuple) -> SearchFilters:
    return SearchFilters(**dict(items))


def _fields() -> dict[str, Any]:
    from search.filters.registry import registry

    return registry.fields()
