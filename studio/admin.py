"""Admin for the studio: project settings and renders (read-only: renders are a cache)."""

from django.contrib import admin

from studio.models import ProjectSettings, Render


@admin.register(ProjectSettings)
class ProjectSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "bpm", "key", "mode", "matching", "updated_at")
    search_fields = ("user__email",)
    raw_id_fields = ("user",)


@admin.register(Render)
class RenderAdmin(admin.ModelAdmin):
    list_display = ("sample", "owner", "bpm", "key", "mode", "format", "status", "size_bytes")
    list_filter = ("status", "format")
    search_fields = ("owner__email", "sample__name")
    readonly_fields = [field.name for field in Render._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
