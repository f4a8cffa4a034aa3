"""Admin for the library: samples (re-analyse action), collections, batch jobs, analysis history."""

import json

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin import UserAdmin
from accounts.models import User
from library.api.files import stored_file_response
from library.models import (
    AnalysisResult,
    BatchJob,
    Collection,
    CollectionItem,
    Sample,
    Visibility,
)
from library.services.analysis import samples_reanalyze
from library.services.collections import collections_changed
from library.services.samples import sample_delete, sample_save_as_admin


class AnalysisResultInline(admin.TabularInline):
    model = AnalysisResult
    extra = 0
    can_delete = False
    fields = ("created_at", "analyzer_version", "status", "seconds", "error")
    readonly_fields = fields
    show_change_link = True


@admin.register(Sample)
class SampleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "status",
        "category",
        "tempo",
        "key",
        "mode",
        "length",
        "visibility",
        "created_at",
    )
    # Only owners who have samples are offered; search by email covers the rest.
    list_filter = (
        "status",
        "category",
        ("owner", admin.RelatedOnlyFieldListFilter),
        "is_loop",
        "visibility",
        "format",
        "created_at",
    )
    search_fields = ("name", "original_filename", "owner__email", "sha256", "tags")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "owner",
        "batch",
        "player",
        "stored_file",
        "original_filename",
        "source_path",
        "sha256",
        "size_bytes",
        "format",
        "length",
        "sample_rate",
        "channels",
        "bit_depth",
        "status",
        "error",
        "analysis_attempts",
        "analysis_started_at",
        "analyzer_version",
        "tempo",
        "key",
        "mode",
        "key_confidence_rounded",
        "loudness",
        "peak",
        "is_loop",
        "category",
        "descriptors_pretty",
        "stored_preview",
        "created_at",
        "updated_at",
    )
    exclude = (
        "embedding",
        "waveform",
        "file",
        "preview",
        "descriptors",
        "duration",
        "bpm",
        "bpm_confidence",
        "key_confidence",
        "loudness_lufs",
        "peak_db",
    )
    inlines = (AnalysisResultInline,)
    actions = ("reanalyze",)

    def get_urls(self):
        listen = path(
            "<uuid:pk>/listen/",
            self.admin_site.admin_view(self.listen_view),
            name="library_sample_listen",
        )
        return [listen, *super().get_urls()]

    def listen_view(self, request, pk) -> HttpResponse:
        """The preview (or, before there is one, the original) for the admin's player."""
        sample = get_object_or_404(Sample, pk=pk)
        if not self.has_view_permission(request, sample):
            raise Http404
        if sample.preview:
            field, name = sample.preview, f"{sample.name}.ogg"
        else:
            field, name = sample.file, sample.original_filename
        return stored_file_response(field, filename=name, attachment=False, request=request)

    @admin.display(description="listen")
    def player(self, sample: Sample) -> str:
        return format_html(
            '<audio controls preload="none" src="{}"></audio>',
            reverse("admin:library_sample_listen", args=[sample.pk]),
        )

    @admin.display(description="duration", ordering="duration")
    def length(self, sample: Sample) -> str:
        return "—" if sample.duration is None else f"{sample.duration:.2f} s"

    @admin.display(description="tempo", ordering="bpm")
    def tempo(self, sample: Sample) -> str:
        if sample.bpm is None:
            return "—"
        confidence = "" if sample.bpm_confidence is None else f" ({sample.bpm_confidence:.2f})"
        return f"{sample.bpm:.1f} BPM{confidence}"

    @admin.display(description="key confidence")
    def key_confidence_rounded(self, sample: Sample) -> str:
        return "—" if sample.key_confidence is None else f"{sample.key_confidence:.2f}"

    @admin.display(description="loudness", ordering="loudness_lufs")
    def loudness(self, sample: Sample) -> str:
        return "—" if sample.loudness_lufs is None else f"{sample.loudness_lufs:.1f} LUFS"

    @admin.display(description="peak")
    def peak(self, sample: Sample) -> str:
        return "—" if sample.peak_db is None else f"{sample.peak_db:.1f} dB"

    @admin.display(description="descriptors")
    def descriptors_pretty(self, sample: Sample) -> str:
        text = json.dumps(_rounded(sample.descriptors), indent=2, sort_keys=True)
        return format_html('<pre class="descriptors-json">{}</pre>', text)

    # Media have no URL (the admin's default would link one): their stored names instead.
    @admin.display(description="file")
    def stored_file(self, sample: Sample) -> str:
        return sample.file.name

    @admin.display(description="preview")
    def stored_preview(self, sample: Sample) -> str:
        return sample.preview.name or ""

    @admin.action(description="Re-analyse the selected samples")
    def reanalyze(self, request, queryset) -> None:
        jobs = samples_reanalyze(samples=queryset)
        count = sum(job.total for job in jobs)
        self.message_user(
            request,
            f"{count} samples queued for analysis in {len(jobs)} re-analysis batch job(s).",
            messages.SUCCESS,
        )

    def save_model(self, request, obj: Sample, form, change) -> None:
        was_public = form.initial.get("visibility") == Visibility.PUBLIC
        sample_save_as_admin(sample=obj, was_public=was_public)

    def delete_model(self, request, obj: Sample) -> None:
        sample_delete(sample=obj, actor=request.user, request=request, as_admin=True)

    def delete_queryset(self, request, queryset) -> None:
        for sample in queryset.select_related("owner"):
            sample_delete(sample=sample, actor=request.user, request=request, as_admin=True)


def _rounded(value, places: int = 4):
    """Floats in a JSON document to ``places`` decimals, for reading."""
    if isinstance(value, float):
        return round(value, places)
    if isinstance(value, dict):
        return {key: _rounded(item, places) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item, places) for item in value]
    return value


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    extra = 0
    raw_id_fields = ("sample",)
    fields = ("position", "sample", "added_at")
    readonly_fields = ("added_at",)


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "visibility", "updated_at")
    list_filter = ("visibility",)
    search_fields = ("name", "owner__email")
    list_select_related = ("owner",)
    inlines = (CollectionItemInline,)

    # The form saves the rows; the service retires the search answers they changed.
    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        collections_changed()

    def delete_model(self, request, obj: Collection) -> None:
        super().delete_model(request, obj)
        collections_changed()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        collections_changed()


@admin.register(BatchJob)
class BatchJobAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "kind", "status", "total", "done", "failed", "created_at")
    list_filter = ("kind", "status", "created_at")
    search_fields = ("owner__email",)
    list_select_related = ("owner",)
    readonly_fields = (
        "owner",
        "kind",
        "status",
        "total",
        "done",
        "failed",
        "errors",
        "created_at",
        "finished_at",
    )
    # Progress is in the counts; a re-analysis job's sample list can run to thousands.
    exclude = ("reanalysed",)


@admin.register(AnalysisResult)
class AnalysisResultAdmin(admin.ModelAdmin):
    list_display = ("sample", "analyzer_version", "status", "seconds", "created_at")
    list_filter = ("status", "analyzer_version")
    list_select_related = ("sample",)
    raw_id_fields = ("sample",)
    readonly_fields = (
        "sample",
        "analyzer_version",
        "status",
        "descriptors",
        "seconds",
        "error",
        "created_at",
    )


def _of_owner_samples(aggregate):
    """A subquery over a user's samples (no join, so the other counts stay exact)."""
    rows = Sample.objects.filter(owner=OuterRef("pk")).order_by().values("owner")
    return Coalesce(
        Subquery(rows.annotate(value=aggregate).values("value")[:1]),
        0,
        output_field=IntegerField(),
    )


class UserWithSamplesAdmin(UserAdmin):
    """The accounts app's user admin, with each user's sample count and storage."""

    list_display = (*UserAdmin.list_display[:-1], "sample_count", "storage", "date_joined")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _samples=_of_owner_samples(Count("pk")),
                _storage=_of_owner_samples(Sum("size_bytes")),
            )
        )

    @admin.display(description="samples", ordering="_samples")
    def sample_count(self, obj: User) -> int:
        return obj._samples

    @admin.display(description="storage", ordering="_storage")
    def storage(self, obj: User) -> str:
        return filesizeformat(obj._storage)


admin.site.unregister(User)
admin.site.register(User, UserWithSamplesAdmin)
