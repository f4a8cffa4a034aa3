"""Account pages that allauth does not provide."""

from django.http import HttpRequest, HttpResponse, JsonResponse

from samplemind.api import error_body


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's answer: 429 with Retry-After, JSON for the API."""
    message = "Too many attempts; wait a minute and try again."
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body("throttled", message), status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain")
    response["Retry-After"] = "60"
    return response
