"""The search page: one box, filters with facet counts, results playable in place."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.rbac import has_permission
from library.models import CATEGORY_CHOICES, KEY_CHOICES, MODE_CHOICES
from library.services.uploads import spooled_uploads
from samplemind import metrics
from samplemind.errors import ProductError
from search.api.serializers import FilterParams, params_of
from search.backends.base import Facets, SearchFilters
from search.selectors import (
    samples_like_sound,
    search_facets,
    search_samples,
    search_suggestions,
)

PAGE_SIZE = 20
# The filters the page offers; the API takes the same names (FilterParams).
PAGE_FILTERS = (
    "bpm_min",
    "bpm_max",
    "key",
    "mode",
    "compatible",
    "duration_min",
    "duration_max",
    "loudness_min",
    "loudness_max",
    "category",
    "is_loop",
    "tags",
)
# A facet band's upper edge is exclusive; bpm_max is inclusive, so stop just below it.
BAND_TOP_MARGIN = 0.01


@dataclass
class FacetLink:
    label: str
    count: int
    url: str  # the page's query string with this facet's filter applied
    active: bool


def _filters(request: HttpRequest) -> tuple[SearchFilters, dict[str, str]]:
    """The page's filters, validated as the API validates them, and what was wrong.

    A field with a bad value is left out (and reported), so one typo never
    hides the results of the other filters.
    """
    params = {
        name: value
        for name, value in params_of(request.GET).items()
        if name in PAGE_FILTERS and value.strip()
    }
    problems: dict[str, str] = {}
    for _attempt in range(len(PAGE_FILTERS) + 1):
        checked = FilterParams(data=params)
        if checked.is_valid():
            return checked.filters(), problems
        problems.update({name: " ".join(map(str, errs)) for name, errs in checked.errors.items()})
        if not any(name in params for name in checked.errors):
            break  # an error no single field explains: search without filters
        for name in checked.errors:
            params.pop(name, None)
    return SearchFilters(), problems


def _query_with(query: QueryDict, **changes: object) -> str:
    """``query`` (without its page) with ``changes`` applied; ``None`` removes a parameter."""
    changed = query.copy()
    changed.pop("page", None)
    for name, value in changes.items():
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = str(value)
    return changed.urlencode()


def _facet_links(request: HttpRequest, facets: Facets, filters: SearchFilters) -> dict:
    """Each facet count as a link that narrows the search to it (or widens it again)."""
    query = request.GET
    categories = []
    for facet in facets.category:
        active = tuple(filters.categories) == (facet.value,)
        url = _query_with(query, category=None if active else facet.value)
        categories.append(FacetLink(facet.label or facet.value, facet.count, url, active))
    keys = []
    for facet in facets.key:
        key, mode = facet.value["key"], facet.value["mode"]
        active = filters.key == key and filters.mode == mode and not filters.compatible_keys
        if active:
            url = _query_with(query, key=None, mode=None, compatible=None)
        else:
            url = _query_with(query, key=key, mode=mode, compatible=None)
        keys.append(FacetLink(facet.label, facet.count, url, active))
    bands = []
    for facet in facets.bpm:
        low, high = facet.value["min"], facet.value["max"]
        top = None if high is None else round(high - BAND_TOP_MARGIN, 2)
        active = filters.bpm_min == low and filters.bpm_max == top
        if active:
            url = _query_with(query, bpm_min=None, bpm_max=None)
        else:
            url = _query_with(query, bpm_min=low, bpm_max=top)
        bands.append(FacetLink(f"{facet.label} BPM", facet.count, url, active))
    return {"Category": categories, "Key": keys, "Tempo": bands}


@login_required
def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:200]
    filters, problems = _filters(request)
    try:
        page_number = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page_number = 1
    results, facets, error = None, None, None
    if text or filters != SearchFilters():  # a search, not a visit to the empty page
        metrics.count("search")
    try:
        results = search_samples(
            user=request.user, text=text, filters=filters, page=page_number, page_size=PAGE_SIZE
        )
        # Count what the results show: near spellings when the exact words found nothing.
        facets = search_facets(
            user=request.user,
            text=text,
            filters=filters,
            fuzzy=results.fuzzy,
            expanded=results.expanded,
        )
    except ProductError as exc:
        error = exc.message
    context = {
        "q": text,
        "filters": filters,
        "problems": problems,
        "results": results,
        "facet_groups": _facet_links(request, facets, filters) if facets else {},
        "error": error,
        "page_number": page_number,
        "page_query": _query_with(request.GET),
        "has_next": results is not None and results.total > page_number * PAGE_SIZE,
        "categories": CATEGORY_CHOICES,
        "keys": KEY_CHOICES,
        "modes": MODE_CHOICES,
        "filtered": any(request.GET.get(name) for name in PAGE_FILTERS),
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
    return render(request, "library/_similar.html", {"hits": hits, "error": error})
