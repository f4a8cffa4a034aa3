"""Root URL configuration: pages, the admin, and the versioned REST API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as account_views
from library import views as library_views
from samplemind.health import HealthView, ReadyView

api_v1 = [
    path("health", HealthView.as_view(), name="health"),
    path("health/ready", ReadyView.as_view(), name="health-ready"),
    path("", include("accounts.api.urls")),
    path("", include("library.api.urls")),
    path("", include("search.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("organise.api.urls")),
    path("", include("studio.api.urls")),
]

urlpatterns = [
    path("admin/login/", account_views.admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's script as a file, so the CSP needs no inline code.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("accounts/", include("allauth.urls")),
    path("billing/", include("billing.urls")),
    path("library/", include("library.urls")),
    path("studio/", include("studio.urls")),
    path("search/", include("search.urls")),
    path("organise/", include("organise.urls")),
    path("account/", include("web.urls")),
    path("", library_views.home, name="home"),
]

handler404 = "samplemind.handlers.not_found"
handler500 = "samplemind.handlers.server_error"
# allauth's rate limits answer through this one (a 429 page with Retry-After).
handler429 = "accounts.views.handler429"
# No URL serves the media folder, not even with DEBUG: every original and preview is
# private until a view has checked who asks (library/api/files.py).
