"""Organising pages."""

from django.urls import path

from organise import views

app_name = "organise"

urlpatterns = [
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/keep", views.duplicates_keep, name="duplicates-keep"),
    path("duplicates/dismiss", views.duplicates_dismiss_view, name="duplicates-dismiss"),
    path("samples/<uuid:pk>/rate", views.sample_rate_view, name="rate"),
    path("samples/<uuid:pk>/tags", views.tag_answer, name="tag-answer"),
    path("map/", views.sound_map, name="map"),
    path("tags/", views.bulk_tags, name="tags"),
    path("tags/answer", views.bulk_tags_answer, name="tags-answer"),
    path("smart/", views.smart_collections, name="smart"),
    path("smart/save", views.smart_collection_save, name="smart-save"),
    path("smart/<int:pk>/delete", views.smart_collection_delete_view, name="smart-delete"),
]
