"""Library pages."""

from django.urls import path

from library import views

app_name = "library"

urlpatterns = [
    path("", views.library_list, name="list"),
    path("bulk", views.library_bulk, name="bulk"),
    path("upload/", views.upload, name="upload"),
    path("samples/<uuid:pk>/", views.sample_detail, name="sample"),
    path("samples/<uuid:pk>/correct", views.sample_correction, name="sample-correct"),
    path("samples/<uuid:pk>/preview", views.sample_preview, name="sample-preview"),
    path("samples/<uuid:pk>/status", views.sample_status, name="sample-status"),
    path("samples/<uuid:pk>/similar", views.sample_similar, name="sample-similar"),
    path("samples/<uuid:pk>/collect", views.collection_add, name="sample-collect"),
    path("collections/", views.collection_list, name="collections"),
    path("collections/<int:pk>/", views.collection_detail, name="collection"),
    path("collections/<int:pk>/order", views.collection_reorder, name="collection-order"),
]
