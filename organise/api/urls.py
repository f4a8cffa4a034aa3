"""Organising endpoints under /api/v1/."""

from django.urls import path

from organise.api import views

urlpatterns = [
    path("duplicates", views.DuplicatesView.as_view(), name="duplicates"),
    path("duplicates/keep", views.DuplicatesKeepView.as_view(), name="duplicates-keep"),
    path("duplicates/dismiss", views.DuplicatesDismissView.as_view(), name="duplicates-dismiss"),
    path("audio/<uuid:pk>/rating", views.RatingView.as_view(), name="audio-rating"),
    path(
        "audio/<uuid:pk>/tag-suggestions",
        views.TagSuggestionsView.as_view(),
        name="audio-tag-suggestions",
    ),
    path("smart-collections", views.SmartCollectionListView.as_view(), name="smart-collections"),
    path(
        "smart-collections/<int:pk>",
        views.SmartCollectionDetailView.as_view(),
        name="smart-collection-detail",
    ),
    path(
        "smart-collections/<int:pk>/samples",
        views.SmartCollectionSamplesView.as_view(),
        name="smart-collection-samples",
    ),
    path(
        "smart-collections/<int:pk>/download",
        views.SmartCollectionDownloadView.as_view(),
        name="smart-collection-download",
    ),
    path("map", views.SoundMapView.as_view(), name="sound-map"),
]
