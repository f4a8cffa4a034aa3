"""Search endpoints under /api/v1/."""

from django.urls import path

from search.api import views

urlpatterns = [
    path("search", views.SearchView.as_view(), name="search"),
    path("search/autocomplete", views.AutocompleteView.as_view(), name="search-autocomplete"),
    path("search/by-sound", views.BySoundView.as_view(), name="search-by-sound"),
    path("audio/<uuid:pk>/similar", views.SimilarView.as_view(), name="audio-similar"),
]
