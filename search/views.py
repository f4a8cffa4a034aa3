"""The search page: one box, filters with facet counts, results playable in place."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.rbac import has_permission
from library.services.uploads import spooled_uploads
from library.waveforms import attach_waveforms
from samplemind import metrics
from samplemind.errors import ProductError
from search.api.serializers import literal_phrases
from search.backends.base import Facets
from search.filters import SearchFilters, registry
from search.filters.panel import ChipLink, filter_panel, query_with
from search.selectors import (
    samples_like_sound,
    search_facets,
    search_suggestions,
    search_understood,
)
from search.understanding import Understood

PAGE_SIZE = 20


@dataclass
class FacetLink:
    label: str
    count: int
    url: str  # the page's query string with this facet's filter applied
    active: bool


def _facet_links(query: QueryDict, facets: Facets, filters: SearchFilters) -> dict:
    """Each facet count as a link that narrows the search to it (or widens it again)."""
    groups = {}
    for item in registry.faceted():
        unit = getattr(item, "unit", "")
        groups[item.label] = [
            FacetLink(
                f"{facet.label} {unit}".strip() if unit else facet.label,
                facet.count,
                query_with(query, **item.facet_params(facet.value, filters)),
                item.facet_active(facet.value, filters),
            )
            for facet in facets.groups.get(item.name, [])
        ]
    return groups


def _reading_chips(query: QueryDict, understood: Understood, literal: list[str]) -> list:
    """What the words were read as, each a chip whose link searches its phrase as words."""
    return [
        ChipLink(
            f"{reading.label} (“{reading.phrase}”)",
            query_with(query, literal=",".join([*literal, reading.phrase])),
        )
        for reading in understood.readings
    ]


@login_required
def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:200]
    parsed = registry.parse_leniently(request.GET)
    filters = parsed.filters
    try:
        page_number = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page_number = 1
    results, facets, error, readings = None, None, None, []
    literal = [
        phrase for value in request.GET.getlist("literal") for phrase in literal_phrases(value)
    ]
    if text or filters != SearchFilters():  # a search, not a visit to the empty page
        metrics.count("search")
    try:
        results, understood = search_understood(
            user=request.user,
            text=text,
            filters=filters,
            literal=literal,
            page=page_number,
            page_size=PAGE_SIZE,
        )
        readings = _reading_chips(request.GET, understood, literal)
        attach_waveforms(hit.sample for hit in results.hits)
        # Count what the results show: near spellings when the exact words found nothing.
        facets = search_facets(
            user=request.user,
            text=understood.text,
            filters=understood.filters,
            fuzzy=results.fuzzy,
            expanded=results.expanded,
        )
    except ProductError as exc:
        error = exc.message
    context = {
        "q": text,
        "filters": filters,
        "filters_panel": filter_panel(
            request.GET,
            parsed,
            user=request.user,
            problems=False,
            form_id="search-filters",
            action=reverse("search:search"),
            clear_url=reverse("search:search") + (f"?{urlencode({'q': text})}" if text else ""),
        ),
        "problems": parsed.problems,
        "results": results,
        "facet_groups": _facet_links(request.GET, facets, filters) if facets else {},
        "readings": readings,
        "error": error,
        "page_number": page_number,
        "page_query": query_with(request.GET),
        "has_next": results is not None and results.total > page_number * PAGE_SIZE,
        "filtered": bool(parsed.raw),
    }
    template = "search/_results.html" if request.htmx and not request.htmx.boosted else None
    return render(request, template or "search/search.html", context)


@login_required
def autocomplete(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "")
    suggestions = search_suggestions(user=request.user, text=text) if text.strip() else []
    return render(request, "search/_suggestions.html", {"suggestions": suggestions})


@login_required
@require_POST
def by_sound(request: HttpRequest) -> HttpResponse:
    """Drop a clip, get the samples that sound most like it; the clip is not stored."""
    hits, error = [], None
    clip = request.FILES.get("clip")
    if not has_permission(request.user, "search:similar"):
        error = "Your plan does not include searching by sound (search:similar)."
    elif clip is None:
        error = "Choose an audio clip to search with."
    else:
        metrics.count("search")
        try:
            with spooled_uploads([clip]) as (spooled,):
                hits = samples_like_sound(user=request.user, path=spooled.path, k=20).hits
        except ProductError as exc:
            error = exc.message
    heading = f"Sounds like “{clip.name}”" if clip is not None and not error else ""
    return render(
        request, "library/_similar.html", {"hits": hits, "error": error, "heading": heading}
    )
