"""The search page: one box, filters with facet counts, results playable in place."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from accounts.rbac import has_permission
from library.models import Sample
from library.services.uploads import spooled_uploads
from samplemind.errors import ProductError
from search.backends.base import SearchFilters
from search.selectors import (
    samples_like_sound,
    search_facets,
    search_samples,
    search_suggestions,
)

PAGE_SIZE = 20


def _filters(request: HttpRequest) -> SearchFilters:
    def number(name: str) -> float | None:
        try:
            return float(request.GET[name])
        except (KeyError, ValueError):
            return None

    categories = tuple(c for c in request.GET.getlist("category") if c)
    return SearchFilters(
        bpm_min=number("bpm_min"),
        bpm_max=number("bpm_max"),
        key=request.GET.get("key") or None,
        categories=categories,
    )


@login_required
def search(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()[:200]
    filters = _filters(request)
    try:
        page_number = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page_number = 1
    results, facets, error = None, None, None
    try:
        results = search_samples(
            user=request.user, text=text, filters=filters, page=page_number, page_size=PAGE_SIZE
        )
        facets = search_facets(user=request.user, text=text, filters=filters)
    except ProductError as exc:
        error = exc.message
    context = {
        "q": text,
        "filters": filters,
        "results": results,
        "facets": facets,
        "error": error,
        "page_number": page_number,
        "has_next": results is not None and results.total > page_number * PAGE_SIZE,
        "categories": Sample._meta.get_field("category").choices,
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
        try:
            with spooled_uploads([clip]) as (spooled,):
                hits = samples_like_sound(user=request.user, path=spooled.path, k=20).hits
        except ProductError as exc:
            error = exc.message
    return render(request, "library/_similar.html", {"hits": hits, "error": error})
