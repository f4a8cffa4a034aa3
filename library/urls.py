"""Library pages."""

from django.urls import path

from library import collection_views, upload_views, views

app_name = "library"

urlpatterns = [
    path("", views.library_list, name="list"),
    path("bulk", views.library_bulk, name="bulk"),
    path("upload/", upload_views.upload, name="upload"),
    path("upload/batches", upload_views.upload_batch_create, name="upload-batches"),
    path("upload/batches/<uuid:pk>/", upload_views.upload_batch_detail, name="upload-batch"),
    path(
        "upload/batches/<uuid:pk>/files",
        upload_views.upload_batch_file,
        name="upload-batch-file",
    ),
    path("samples/<uuid:pk>/", views.sample_detail, name="sample"),
    path("samples/<uuid:pk>/correct", views.sample_correction, name="sample-correct"),
    path("samples/<uuid:pk>/preview", views.sample_preview, name="sample-preview"),
    path("samples/<uuid:pk>/peaks", views.sample_peaks, name="sample-peaks"),
    path("samples/<uuid:pk>/status", views.sample_status, name="sample-status"),
    path("samples/<uuid:pk>/similar", views.sample_similar, name="sample-similar"),
    path("samples/<uuid:pk>/collect", collection_views.collection_add, name="sample-collect"),
    path("collections/", collection_views.collection_list, name="collections"),
    path("collections/<int:pk>/", collection_views.collection_detail, name="collection"),
    path(
        "collections/<int:pk>/order", collection_views.collection_reorder, name="collection-order"
    ),
    path("collections/<int:pk>/edit", collection_views.collection_edit, name="collection-edit"),
    path(
        "collections/<int:pk>/delete",
        collection_views.collection_delete_view,
        name="collection-delete",
    ),
    path(
        "collections/<int:pk>/remove", collection_views.collection_remove, name="collection-remove"
    ),
    path(
        "collections/<int:pk>/publish-samples",
        collection_views.collection_publish_samples,
        name="collection-publish-samples",
    ),
]
