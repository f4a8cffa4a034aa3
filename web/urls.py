"""Account pages outside allauth."""

from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/revoke", views.api_key_revoke_view, name="api-key-revoke"),
    path("theme", views.theme, name="theme"),
]
