"""Smart collections: which parameters a saved search keeps, and the samples it finds now."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import QueryDict

from accounts.models import User
from library import selectors as library_selectors
from library.api.filters import samples_filtered
from library.forms import SORTS
from search.filters import registry

TEXT, SORT = "q", "sort"


def saved_query(params: QueryDict | dict) -> dict[str, str]:
    """The words, sort and filters of a library query, validated (a bad filter is a 400)."""
    filters = registry.query_params(params, blanks=False)
    registry.parse(filters)  # raises DRF's ValidationError, naming the bad parameter
    query = dict(filters)
    text = str(params.get(TEXT, "")).strip()[:200]
    if text:
        query[TEXT] = text
    sort = str(params.get(SORT, "")).strip()
    if sort:
        if sort not in SORTS:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({SORT: [f"Sort by one of {', '.join(SORTS)}."]})
        query[SORT] = sort
    return query


def samples_found(*, owner: User, query: dict) -> QuerySet:
    """The owner's samples the saved search finds today, in its order (as the library page)."""
    filters = registry.parse(registry.query_params(query))
    samples = samples_filtered(library_selectors.sample_list(user=owner), filters, user=owner)
    text = query.get(TEXT, "")
    if text:
        samples = samples.filter(Q(name__icontains=text) | Q(tags__contains=[text.lower()]))
    return samples.order_by(query.get(SORT) or "-created_at", "-created_at")


def counts(*, owner: User, collections: list) -> dict[int, int]:
    """Each smart collection's sample count, all in one query (one filtered COUNT each)."""
    from django.db.models import Count

    if not collections:
        return {}
    aggregates = {}
    for collection in collections:
        filters = registry.parse(registry.query_params(collection.query))
        condition = registry.q(filters, owner)
        text = collection.query.get(TEXT, "")
        if text:
            condition &= Q(name__icontains=text) | Q(tags__contains=[text.lower()])
        aggregates[f"c{collection.pk}"] = Count("pk", filter=condition)
    found = library_selectors.samples_owned(user=owner).aggregate(**aggregates)
    return {collection.pk: found[f"c{collection.pk}"] for collection in collections}
