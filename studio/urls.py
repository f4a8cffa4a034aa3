"""Studio pages."""

from django.urls import path

from studio import views

app_name = "studio"

urlpatterns = [
    path("kits/", views.kit_list, name="kits"),
    path("kits/<int:pk>/", views.kit_builder, name="kit"),
    path("samples/<uuid:pk>/file", views.sample_file, name="sample-file"),
]
