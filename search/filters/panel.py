"""The filter panel of the library and search pages, derived from the registry.

``templates/_filter_panel.html`` renders a :class:`FilterPanel`: one widget
per registered filter (its template and what it shows), the active filters as
removable chips, and the parameters that were wrong (and left out).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from search.filters.base import Filter
from search.filters.registry import Parsed, registry


@dataclass
class Widget:
    filter: Filter
    template: str
    context: dict[str, Any]


@dataclass
class ChipLink:
    label: str
    url: str  # the page's query string without this chip's parameters


@dataclass
class FilterPanel:
    """What ``_filter_panel.html`` shows (context name ``filters_panel``).

    With ``form_id`` the panel is a GET form of its own (``action``, ``hidden``
    inputs, an Apply button and ``clear_url``), so a page can place it apart
    from its other controls, which join it with ``form="<form_id>"``; without,
    its controls go inside the page's form.
    """

    widgets: list[Widget]
    chips: list[ChipLink] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    form_id: str = ""
    action: str = ""
    hidden: list[tuple[str, str]] = field(default_factory=list)
    clear_url: str = ""


def query_with(query: QueryDict, **changes: object) -> str:
    """``query`` (without its page) with ``changes`` applied; ``None`` removes a parameter."""
    changed = query.copy()
    changed.pop("page", None)
    for name, value in changes.items():
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = str(value)
    return changed.urlencode()


def query_without(query: QueryDict, names: Iterable[str]) -> str:
    return query_with(query, **dict.fromkeys(names))


def filter_panel(
    query: QueryDict,
    parsed: Parsed,
    *,
    user: Any,
    exclude: Collection[str] = (),
    chips: list[ChipLink] = (),
    problems: bool = True,
    **form: Any,
) -> FilterPanel:
    """The panel for a page whose query string is ``query``; ``exclude`` leaves filters out.

    ``chips`` come first (e.g. what the search understood from its words);
    ``problems=False`` leaves the bad parameters for the page to report;
    ``form`` holds :class:`FilterPanel`'s form fields (``form_id``, ``action``...).
    """
    widgets = [
        Widget(item, item.widget, item.widget_context(parsed.filters, parsed.raw, user))
        for item in registry
        if item.name not in exclude
    ]
    links = list(chips) + [
        ChipLink(chip.label, query_without(query, chip.clears))
        for chip in registry.chips(parsed.filters)
    ]
    return FilterPanel(
        widgets=widgets, chips=links, problems=parsed.problems if problems else {}, **form
    )
