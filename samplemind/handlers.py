"""The URLconf's error views: JSON in the shared error shape under /api/, pages elsewhere."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from samplemind.api import error_body
from samplemind.outage import database_unavailable, is_database_outage


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON for API paths, Django's page for the rest."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "No such API endpoint."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while it handles the exception: an outage met outside a view.
    if is_database_outage(sys.exc_info()[1]):
        return database_unavailable(request)
    if request.path.startswith("/api/"):
        message = "Something went wrong on our side; it has been logged."
        return JsonResponse(error_body("server_error", message), status=500)
    return defaults.server_error(request)
