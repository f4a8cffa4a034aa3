"""Search parameters in, results out. Validation only: searching happens in search.selectors."""

from __future__ import annotations

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from library.api.serializers import SAMPLE_FIELDS, SampleSerializer
from search.backends.base import SORTABLE, Hit
from search.filters import SearchFilters, registry
from search.keys import camelot

HIT_FIELDS = ("score", "score_parts", "highlight")  # read from the hit, not its sample
ORDERINGS = sorted(SORTABLE | {f"-{name}" for name in SORTABLE})


def params_of(data: QueryDict | dict) -> dict:
    """A plain dict of a request's parameters (their last values), filters left out.

    A plain dict, not the QueryDict, so that an absent boolean stays absent
    (DRF reads a missing HTML checkbox as false). The filters are read by
    :func:`validated` through the filter registry.
    """
    filter_names = set(registry.param_names())
    getlist = getattr(data, "getlist", None)
    return {
        name: getlist(name)[-1] if getlist else data[name]
        for name in data
        if name not in filter_names
    }


def validated(
    data: QueryDict | dict, params_class: type[serializers.Serializer], **extra: object
) -> tuple[dict, SearchFilters]:
    """A request's own parameters (``params_class``) and its filters, checked together.

    Raises one ``ValidationError`` naming every bad parameter, filters and
    others alike, in the API's error shape.
    """
    params = params_class(data={**params_of(data), **extra})
    filters = registry.serializer_class()(data=registry.query_params(data))
    own_ok, filters_ok = params.is_valid(), filters.is_valid()
    if not (own_ok and filters_ok):
        raise serializers.ValidationError({**filters.errors, **params.errors})
    return params.validated_data, filters.filters()


def literal_phrases(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def filter_parameters() -> type[serializers.Serializer]:
    """The filters' parameters for the OpenAPI schema (``AutoSchema`` adds them)."""
    return registry.serializer_class()


class SearchParams(serializers.Serializer):
    q = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=200,
        help_text='Web-search syntax: dark pad -noise, "vinyl crackle".',
    )
    literal = serializers.CharField(
        required=False,
        max_length=400,
        help_text="Comma-separated phrases of q to search as words rather than read as "
        'filters (q="hh 120 bpm" reads "hh" as category hihat and "120 bpm" as a tempo).',
    )
    similar_to = serializers.UUIDField(
        required=False,
        help_text="A sample id: rank by sound similarity to it too (hybrid search).",
    )
    fuzzy = serializers.ChoiceField(
        choices=("auto", "on", "off"),
        default="auto",
        help_text="auto: near spellings when the exact words find nothing.",
    )
    ordering = serializers.ChoiceField(
        choices=ORDERINGS, required=False, help_text="Default: relevance, or newest first."
    )
    facets = serializers.BooleanField(
        default=False, help_text="Also count matches by each faceted filter (category, key, tempo)."
    )
    page = serializers.IntegerField(default=1, min_value=1, max_value=500)
    page_size = serializers.IntegerField(default=20, min_value=1, max_value=100)


class SimilarParams(serializers.Serializer):
    k = serializers.IntegerField(default=10, min_value=1, max_value=100)


class BySoundParams(SimilarParams):
    file = serializers.FileField(help_text="An audio clip; analysed, never stored.")


class AutocompleteParams(serializers.Serializer):
    q = serializers.CharField(max_length=100, trim_whitespace=False)
    limit = serializers.IntegerField(default=8, min_value=1, max_value=20)


class SearchResultSerializer(SampleSerializer):
    """A sample as the library shows it, plus how it scored and where the query matched."""

    # Serializes search.backends.base.Hit objects: the sample's fields come from
    # hit.sample, the scoring fields (HIT_FIELDS) from the hit itself.

    camelot = serializers.SerializerMethodField()
    score = serializers.FloatField(allow_null=True)
    score_parts = serializers.DictField(source="parts")
    highlight = serializers.DictField(
        child=serializers.CharField(),
        help_text="HTML with only <mark> tags; everything else is escaped.",
    )

    class Meta(SampleSerializer.Meta):
        # Not ``machine``: a hit's descriptors stay unloaded (its ``corrections`` say what the
        # producer set; the sample's own page and JSON give the analyser's reading).
        fields = (*SAMPLE_FIELDS, "camelot", *HIT_FIELDS)

    def to_representation(self, instance: Hit) -> dict:
        # DRF's Serializer.to_representation, each field read from the hit or from its sample.
        body = {}
        for field in self._readable_fields:
            owner = instance if field.field_name in HIT_FIELDS else instance.sample
            try:
                attribute = field.get_attribute(owner)
            except SkipField:
                continue
            value = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            body[field.field_name] = None if value is None else field.to_representation(attribute)
        return body

    def get_camelot(self, sample) -> str | None:
        return camelot(sample.key, sample.mode) if sample.key and sample.mode else None


class FacetCountSerializer(serializers.Serializer):
    value = serializers.JSONField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class FacetsSerializer(serializers.DictField):
    """Counts by faceted filter name (``category``, ``key``, ``bpm``...)."""

    def __init__(self, **kwargs):
        super().__init__(child=FacetCountSerializer(many=True), **kwargs)


class ReadingSerializer(serializers.Serializer):
    phrase = serializers.CharField(help_text="The words of q, as typed.")
    label = serializers.CharField(help_text="What they were read as, for people.")
    filters = serializers.DictField(help_text="The filter fields they set.")


class SearchResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    count_is_exact = serializers.BooleanField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    fuzzy = serializers.BooleanField(help_text="Near spellings were used.")
    expanded = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Which words stood in for each query word.",
    )
    understood = ReadingSerializer(
        many=True, help_text="Phrases of q read as filters; the rest was searched as words."
    )
    results = SearchResultSerializer(many=True)
    facets = FacetsSerializer(required=False)


class SimilarResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = SearchResultSerializer(many=True)


class SuggestionSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The whole query, completed.")
    word = serializers.CharField()
    samples = serializers.IntegerField(help_text="Samples it finds, counted up to 100.")
    fuzzy = serializers.BooleanField()


class AutocompleteResponseSerializer(serializers.Serializer):
    suggestions = SuggestionSerializer(many=True)
