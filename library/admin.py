"""Admin for the library: samples (re-analyse action), collections, batch jobs, analysis history."""

from django.contrib import admin, messages

from library.models import AnalysisResult, BatchJob, Collection, CollectionItem, Sample
from library.services.analysis import samples_reanalyze
from library.services.samples import sample_delete


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
        "bpm",
        "key",
        "mode",
        "duration",
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
        "stored_file",
        "original_filename",
        "sha256",
        "size_bytes",
        "format",
        "duration",
        "sample_rate",
        "channels",
        "bit_depth",
        "status",
        "error",
        "analysis_attempts",
        "analysis_started_at",
        "analyzer_version",
        "bpm",
        "bpm_confidence",
        "key",
        "mode",
        "key_confidence",
        "loudness_lufs",
        "peak_db",
        "is_loop",
        "category",
        "descriptors",
        "stored_preview",
        "created_at",
        "updated_at",
    )
    exclude = ("embedding", "waveform", "file", "preview")
    inlines = (AnalysisResultInline,)
    actions = ("reanalyze",)

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

    def delete_model(self, request, obj: Sample) -> None:
        sample_delete(sample=obj, actor=request.user, request=request, as_admin=True)

    def delete_queryset(self, request, queryset) -> None:
        for sample in queryset.select_related("owner"):
            sample_delete(sample=sample, actor=request.user, request=request, as_admin=True)


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
