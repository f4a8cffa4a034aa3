"""Library endpoints under /api/v1/."""

from django.urls import path

from library.api import staff, views

urlpatterns = [
    path("audio/", views.SampleListView.as_view(), name="audio-list"),
    path("audio/upload", views.UploadView.as_view(), name="audio-upload"),
    path("audio/batch", views.BatchUploadView.as_view(), name="audio-batch"),
    path("audio/batch/<uuid:pk>", views.BatchJobView.as_view(), name="audio-batch-detail"),
    path("audio/<uuid:pk>", views.SampleDetailView.as_view(), name="audio-detail"),
    path(
        "audio/<uuid:pk>/download",
        views.SampleFileView.as_view(which="download"),
        name="audio-download",
    ),
    path(
        "audio/<uuid:pk>/preview",
        views.SampleFileView.as_view(which="preview"),
        name="audio-preview",
    ),
    path("audio/<uuid:pk>/reanalyze", views.SampleReanalyzeView.as_view(), name="audio-reanalyze"),
    path("collections", views.CollectionListView.as_view(), name="collections"),
    path("collections/<int:pk>", views.CollectionDetailView.as_view(), name="collection-detail"),
    path(
        "collections/<int:pk>/samples",
        views.CollectionSamplesView.as_view(),
        name="collection-samples",
    ),
    path(
        "collections/<int:pk>/order", views.CollectionOrderView.as_view(), name="collection-order"
    ),
    path(
        "collections/<int:pk>/download",
        views.CollectionDownloadView.as_view(),
        name="collection-download",
    ),
    path("admin/analytics", staff.AnalyticsView.as_view(), name="admin-analytics"),
]
