"""Search parameters in, results out. Validation only: searching happens in search.selectors."""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.analysis import CATEGORIES
from library.api.serializers import SAMPLE_FIELDS, SampleSerializer
from library.models import Visibility
from search.backends.base import SORTABLE, SearchFilters
from search.keys import MODES, UnknownKey, camelot, parse_key

LIST_PARAMS = ("category", "tags")
ORDERINGS = sorted(SORTABLE | {f"-{name}" for name in SORTABLE})


def params_of(data: QueryDict) -> dict:
    """A plain dict of request parameters: lists joined with commas, others their last value.

    A plain dict, not the QueryDict, so that an absent boolean stays absent
    (DRF reads a missing HTML checkbox as false).
    """
    params = {}
    for name in data:
        values = data.getlist(name)
        params[name] = ",".join(values) if name in LIST_PARAMS else values[-1]
    return params


def _comma_list(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split(",") if part.strip()]


# What search.keys.parse_key reads, as an OpenAPI (ECMA) pattern: a Camelot code, or a
# note name with an optional accidental and mode, any case.
KEY_PATTERN = (
    r"^\s*(?:(?:1[0-2]|[1-9])\s*[ABab]|[A-Ga-g][#b♯♭]?\s*"
    r"(?:[Mm][Ii][Nn](?:[Oo][Rr])?|[Mm][Aa][Jj](?:[Oo][Rr])?|[Mm])?)\s*$"
)


@extend_schema_field({"type": "string", "pattern": KEY_PATTERN, "maxLength": 12})
class KeyField(serializers.CharField):
    """A key as people type it; read by ``validate`` with search.keys.parse_key."""


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "enum": list(CATEGORIES)}, "maxItems": 20}
)
class CategoryList(serializers.CharField):
    """Categories, comma-separated (``kick,snare``) or the parameter repeated."""


class FilterParams(serializers.Serializer):
    """The filters every search route takes."""

    bpm_min = serializers.FloatField(required=False, min_value=0, max_value=999)
    bpm_max = serializers.FloatField(required=False, min_value=0, max_value=999)
    key = KeyField(
        required=False,
        max_length=12,
        help_text="C, F#, Bb, Am, F#m, A minor or a Camelot code (8A).",
    )
    mode = serializers.ChoiceField(choices=MODES, required=False)
    compatible = serializers.BooleanField(
        default=False,
        help_text="With key and mode: also the relative key and a fifth up and down "
        "(the key's Camelot neighbours).",
    )
    duration_min = serializers.FloatField(required=False, min_value=0, help_text="Seconds.")
    duration_max = serializers.FloatField(required=False, min_value=0, help_text="Seconds.")
    loudness_min = serializers.FloatField(
        required=False, min_value=-100, max_value=20, help_text="LUFS."
    )
    loudness_max = serializers.FloatField(
        required=False, min_value=-100, max_value=20, help_text="LUFS."
    )
    category = CategoryList(required=False, max_length=400, help_text="Any of them.")
    is_loop = serializers.BooleanField(allow_null=True, default=None)
    tags = serializers.CharField(
        required=False, max_length=1000, help_text="Comma-separated; every one of them."
    )
    collection = serializers.IntegerField(required=False, min_value=1)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    mine = serializers.BooleanField(default=False, help_text="Only your own samples.")

    def validate_category(self, value: str) -> list[str]:
        categories = _comma_list(value)
        unknown = [name for name in categories if name not in CATEGORIES]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown categories: {', '.join(unknown)}. Choose from {', '.join(CATEGORIES)}."
            )
        return categories

    def validate_tags(self, value: str) -> list[str]:
        return _comma_list(value)[:30]

    def validate(self, attrs: dict) -> dict:
        if "key" in attrs:
            try:
                key, mode = parse_key(attrs["key"])
            except UnknownKey as exc:
                raise serializers.ValidationError({"key": str(exc)}) from None
            if mode and attrs.get("mode") and attrs["mode"] != mode:
                raise serializers.ValidationError({"mode": f"The key says {mode}."})
            attrs["key"], attrs["mode"] = key, mode or attrs.get("mode")
        if attrs.get("compatible") and not (attrs.get("key") and attrs.get("mode")):
            raise serializers.ValidationError(
                {"compatible": "Compatible keys need a key and a mode, e.g. key=Am or key=8A."}
            )
        for low, high in (
            ("bpm_min", "bpm_max"),
            ("duration_min", "duration_max"),
            ("loudness_min", "loudness_max"),
        ):
            if attrs.get(low) is not None and attrs.get(high) is not None:
                if attrs[low] > attrs[high]:
                    raise serializers.ValidationError({low: f"{low} is above {high}."})
        return attrs

    def filters(self) -> SearchFilters:
        data = self.validated_data
        return SearchFilters(
            bpm_min=data.get("bpm_min"),
            bpm_max=data.get("bpm_max"),
            key=data.get("key"),
            mode=data.get("mode"),
            compatible_keys=data.get("compatible", False),
            duration_min=data.get("duration_min"),
            duration_max=data.get("duration_max"),
            loudness_min=data.get("loudness_min"),
            loudness_max=data.get("loudness_max"),
            categories=tuple(data.get("category", ())),
            is_loop=data.get("is_loop"),
            tags=tuple(data.get("tags", ())),
            collection=data.get("collection"),
            visibility=data.get("visibility"),
            mine=data.get("mine", False),
        )


class SearchParams(FilterParams):
    q = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=200,
        help_text='Web-search syntax: dark pad -noise, "vinyl crackle".',
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
        default=False, help_text="Also count matches by category, key and tempo."
    )
    page = serializers.IntegerField(default=1, min_value=1, max_value=500)
    page_size = serializers.IntegerField(default=20, min_value=1, max_value=100)


class SimilarParams(FilterParams):
    k = serializers.IntegerField(default=10, min_value=1, max_value=100)


class BySoundParams(SimilarParams):
    file = serializers.FileField(help_text="An audio clip; analysed, never stored.")


class AutocompleteParams(serializers.Serializer):
    q = serializers.CharField(max_length=100, trim_whitespace=False)
    limit = serializers.IntegerField(default=8, min_value=1, max_value=20)


class SearchResultSerializer(SampleSerializer):
    """A sample as the library shows it, plus how it scored and where the query matched."""

    camelot = serializers.SerializerMethodField()
    score = serializers.FloatField(source="search_hit.score", allow_null=True)
    score_parts = serializers.DictField(source="search_hit.parts")
    highlight = serializers.DictField(
        source="search_hit.highlight",
        child=serializers.CharField(),
        help_text="HTML with only <mark> tags; everything else is escaped.",
    )

    class Meta(SampleSerializer.Meta):
        # Not ``machine``: a hit's descriptors stay unloaded (its ``corrections`` say what the
        # producer set; the sample's own page and JSON give the analyser's reading).
        fields = (*SAMPLE_FIELDS, "camelot", "score", "score_parts", "highlight")

    def get_camelot(self, sample) -> str | None:
        return camelot(sample.key, sample.mode) if sample.key and sample.mode else None


class FacetCountSerializer(serializers.Serializer):
    value = serializers.JSONField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer):
    category = FacetCountSerializer(many=True)
    key = FacetCountSerializer(many=True)
    bpm = FacetCountSerializer(many=True)


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
