"""Search endpoints: text and filters, autocomplete, "more like this", search by sound.

Who may use what (see accounts.rbac):

- ``search:basic`` (every plan): text search, fuzzy matching, filters, facets,
  autocomplete.
- ``search:similar`` (pro and up): samples that sound like a sample or like an
  uploaded clip.
- ``search:advanced`` (studio and up), with ``search:similar``: hybrid
  search, one ranking fused from text relevance and sound similarity.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from accounts.models import ApiKey
from accounts.permissions import Allowed
from library.services.uploads import spooled_uploads
from samplemind import metrics
from search import selectors
from search.api import serializers as s
from search.backends.base import Facets, ResultPage


def _results(page: ResultPage, request: Request) -> list[dict]:
    return s.SearchResultSerializer(page.hits, many=True, context={"request": request}).data


def _facets(facets: Facets) -> dict:
    return {
        name: [{"value": item.value, "label": item.label, "count": item.count} for item in counts]
        for name, counts in facets.groups.items()
    }


def _jsonable(changes: dict) -> dict:
    return {
        name: list(value) if isinstance(value, tuple) else value for name, value in changes.items()
    }


def _page_links(request: Request, page: ResultPage, number: int, size: int) -> dict:
    url = request.build_absolute_uri()
    following = number * size < page.total and number < 500
    previous = None
    if number > 1:
        previous = (
            remove_query_param(url, "page")
            if number == 2
            else replace_query_param(url, "page", number - 1)
        )
    return {
        "next": replace_query_param(url, "page", number + 1) if following else None,
        "previous": previous,
    }


class SearchView(APIView):
    """Search the samples you can see: yours and everyone's public ones.

    ``q`` takes web-search syntax (``dark pad -noise``, ``"vinyl crackle"``);
    results are ranked (name and tags count most, then collection names, then
    the description) and carry highlighted snippets. When the words find
    nothing, near spellings are tried ("kik" finds "kick"). With
    ``similar_to``, text relevance and sound similarity are fused by
    reciprocal rank fusion (studio plans and up); ``score_parts`` shows both.
    ``similar_to`` without ``q`` pages through the sample's nearest neighbours
    (pro plans and up).
    """

    permission_classes = [Allowed("search:basic")]
    filter_parameters = staticmethod(s.filter_parameters)

    @extend_schema(parameters=[s.SearchParams], responses=s.SearchResponseSerializer)
    def get(self, request: Request) -> Response:
        data, filters = s.validated(request.query_params, s.SearchParams)
        metrics.count("search")  # the administrators' search volume
        source = None
        if data.get("similar_to"):
            # Alone, similar_to is "more like this"; with text it is hybrid search.
            selectors.sound_ranking_check(
                user=request.user,
                api_key=request.auth if isinstance(request.auth, ApiKey) else None,
                hybrid=bool(data["q"].strip()),
            )
            source = selectors.visible_sample(user=request.user, sample_id=data["similar_to"])
            if source is None:
                raise Http404("No such sample.")
        page, understood = selectors.search_understood(
            user=request.user,
            text=data["q"],
            filters=filters,
            literal=s.literal_phrases(data.get("literal", "")),
            fuzzy=data["fuzzy"],
            ordering=data.get("ordering"),
            similar_to=source,
            page=data["page"],
            page_size=data["page_size"],
        )
        body = {
            "count": page.total,
            "count_is_exact": page.total_is_exact,
            **_page_links(request, page, data["page"], data["page_size"]),
            "fuzzy": page.fuzzy,
            "expanded": page.expanded,
            "understood": [
                {"phrase": r.phrase, "label": r.label, "filters": _jsonable(r.changes)}
                for r in understood.readings
            ],
            "results": _results(page, request),
        }
        if data["facets"]:
            facets = selectors.search_facets(
                user=request.user,
                text=understood.text,
                filters=understood.filters,
                fuzzy=page.fuzzy,
                expanded=page.expanded,
            )
            body["facets"] = _facets(facets)
        return Response(body)


class AutocompleteView(APIView):
    """Completions for the last word typed, from the names and tags of samples you can see."""

    permission_classes = [Allowed("search:basic")]

    @extend_schema(parameters=[s.AutocompleteParams], responses=s.AutocompleteResponseSerializer)
    def get(self, request: Request) -> Response:
        params = s.AutocompleteParams(data=s.params_of(request.query_params))
        params.is_valid(raise_exception=True)
        suggestions = selectors.search_suggestions(
            user=request.user, text=params.validated_data["q"], limit=params.validated_data["limit"]
        )
        return Response(
            {
                "suggestions": [
                    {"text": i.text, "word": i.word, "samples": i.samples, "fuzzy": i.fuzzy}
                    for i in suggestions
                ]
            }
        )


class SimilarView(APIView):
    """The samples that sound most like this one ("more like this"), with the same filters."""

    permission_classes = [Allowed("search:similar")]
    filter_parameters = staticmethod(s.filter_parameters)

    @extend_schema(parameters=[s.SimilarParams], responses=s.SimilarResponseSerializer)
    def get(self, request: Request, pk) -> Response:
        data, filters = s.validated(request.query_params, s.SimilarParams)
        sample = selectors.visible_sample(user=request.user, sample_id=pk)
        if sample is None:
            raise Http404("No such sample.")
        metrics.count("search")
        page = selectors.similar_samples(
            user=request.user, sample=sample, k=data["k"], filters=filters
        )
        return Response({"count": len(page.hits), "results": _results(page, request)})


class BySoundView(APIView):
    """Upload a clip (field ``file``) and get the samples that sound most like it.

    The clip is analysed on the fly and never stored. Filters and ``k`` may be
    sent as form fields or query parameters.
    """

    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [Allowed("search:similar")]
    filter_parameters = staticmethod(s.filter_parameters)  # as query parameters or form fields

    @extend_schema(
        request={"multipart/form-data": s.BySoundParams}, responses=s.SimilarResponseSerializer
    )
    def post(self, request: Request) -> Response:
        fields = request.query_params.copy()
        for name in request.POST:
            fields.setlist(name, request.POST.getlist(name))
        data, filters = s.validated(fields, s.BySoundParams, file=request.FILES.get("file"))
        metrics.count("search")
        with spooled_uploads([data["file"]]) as (clip,):
            page = selectors.samples_like_sound(
                user=request.user, path=clip.path, k=data["k"], filters=filters
            )
        return Response({"count": len(page.hits), "results": _results(page, request)})
