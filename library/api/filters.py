"""Filters for the sample list: the ones producers reach for."""

from __future__ import annotations

import django_filters

from library.models import CATEGORY_CHOICES, KEY_CHOICES, MODE_CHOICES, Sample, SampleStatus


class CommaList(django_filters.BaseInFilter, django_filters.CharFilter):
    pass


class SampleFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SampleStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=CATEGORY_CHOICES)
    key = django_filters.ChoiceFilter(choices=KEY_CHOICES)
    mode = django_filters.ChoiceFilter(choices=MODE_CHOICES)
    is_loop = django_filters.BooleanFilter()
    bpm_min = django_filters.NumberFilter(field_name="bpm", lookup_expr="gte")
    bpm_max = django_filters.NumberFilter(field_name="bpm", lookup_expr="lte")
    duration_min = django_filters.NumberFilter(field_name="duration", lookup_expr="gte")
    duration_max = django_filters.NumberFilter(field_name="duration", lookup_expr="lte")
    tags = CommaList(method="filter_tags", help_text="Comma-separated; samples with all of them.")
    collection = django_filters.NumberFilter(field_name="collections", distinct=True)
    visibility = django_filters.CharFilter()
    ordering = django_filters.OrderingFilter(
        fields=("created_at", "name", "bpm", "duration", "loudness_lufs", "key")
    )

    class Meta:
        model = Sample
        fields: list[str] = []

    def filter_tags(self, queryset, name, value):
        tags = [tag.strip().lower() for tag in value if tag.strip()]
        return queryset.filter(tags__contains=tags) if tags else queryset
