"""Studio endpoints under /api/v1/."""

from django.urls import path

from studio.api import views

urlpatterns = [
    path("studio/project", views.ProjectView.as_view(), name="studio-project"),
    path("audio/<uuid:pk>/render", views.RenderView.as_view(), name="audio-render"),
]
