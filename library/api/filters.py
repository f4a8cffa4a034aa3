"""Filters for the sample list: the ones producers reach for."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema_field

from library.models import (
    CATEGORY_CHOICES,
    KEY_CHOICES,
    MODE_CHOICES,
    Sample,
    SampleStatus,
    Visibility,
)

DAY = 86400  # seconds: the longest duration a filter takes


class CommaList(django_filters.BaseInFilter, django_filters.CharFilter):
    pass


class RangeBound(django_filters.NumberFilter):
    """A number between ``min_value`` and ``max_value``; the OpenAPI schema says so too."""

    def __init__(self, *, min_value: float, max_value: float, integer: bool = False, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        kind = {"type": "integer"} if integer else {"type": "number", "format": "double"}
        extend_schema_field({**kind, "minimum": min_value, "maximum": max_value})(self)


class SampleFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SampleStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=CATEGORY_CHOICES)
    key = django_filters.ChoiceFilter(choices=KEY_CHOICES)
    mode = django_filters.ChoiceFilter(choices=MODE_CHOICES)
    is_loop = django_filters.BooleanFilter()
    bpm_min = RangeBound(field_name="bpm", lookup_expr="gte", min_value=0, max_value=999)
    bpm_max = RangeBound(field_name="bpm", lookup_expr="lte", min_value=0, max_value=999)
    duration_min = RangeBound(
        field_name="duration", lookup_expr="gte", min_value=0, max_value=DAY, help_text="Seconds."
    )
    duration_max = RangeBound(
        field_name="duration", lookup_expr="lte", min_value=0, max_value=DAY, help_text="Seconds."
    )
    tags = CommaList(method="filter_tags", help_text="Comma-separated; samples with all of them.")
    collection = RangeBound(
        field_name="collections", distinct=True, min_value=1, max_value=2**31 - 1, integer=True
    )
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)
    ordering = django_filters.OrderingFilter(
        fields=("created_at", "name", "bpm", "duration", "loudness_lufs", "key")
    )

    class Meta:
        model = Sample
        fields: list[str] = []

    def filter_tags(self, queryset, name, value):
        tags = [tag.strip().lower() for tag in value if tag.strip()]
        return queryset.filter(tags__contains=tags) if tags else queryset
