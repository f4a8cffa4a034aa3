"""Search pages."""

from django.urls import path

from search import views

app_name = "search"

urlpatterns = [
    path("", views.search, name="search"),
    path("by-sound", views.by_sound, name="by-sound"),
    path("suggest", views.autocomplete, name="suggest"),
]
