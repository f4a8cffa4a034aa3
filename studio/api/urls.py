"""Studio endpoints under /api/v1/."""

from django.urls import path

from studio.api import views

urlpatterns = [
    path("studio/project", views.ProjectView.as_view(), name="studio-project"),
    path("audio/<uuid:pk>/render", views.RenderView.as_view(), name="audio-render"),
    path("audio/<uuid:pk>/slices", views.LoopSlicesView.as_view(), name="audio-slices"),
    path(
        "collections/<int:pk>/render",
        views.CollectionRenderView.as_view(),
        name="collection-render",
    ),
    path("kits", views.KitListView.as_view(), name="studio-kits"),
    path("kits/<int:pk>", views.KitDetailView.as_view(), name="studio-kit"),
    path("kits/<int:pk>/pads", views.KitPadsView.as_view(), name="studio-kit-pads"),
    path(
        "kits/<int:pk>/suggestions",
        views.KitSuggestionsView.as_view(),
        name="studio-kit-suggestions",
    ),
    path("kits/<int:pk>/export", views.KitExportView.as_view(), name="studio-kit-export"),
]
