"""Account pages that allauth does not provide, and the 429 answers of every rate limit."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.errors import LoginThrottled
from accounts.login import login_lock_check
from samplemind.api import error_body

MESSAGE = "Too many attempts; wait a minute and try again."


def too_many_requests(request: HttpRequest, *, retry_after: int = 60) -> HttpResponse:
    """429 with Retry-After: JSON for the API, the site's page for people."""
    if request.path.startswith("/api/"):
        body = error_body("throttled", MESSAGE, {"retry_after": retry_after})
        response = JsonResponse(body, status=429)
    else:
        response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """django-ratelimit's answer (``RATELIMIT_VIEW``); its windows are a minute at most here."""
    return too_many_requests(request)


def handler429(request: HttpRequest) -> HttpResponse:
    """allauth's answer to its own limits (``ROOT_URLCONF.handler429``), with Retry-After."""
    return too_many_requests(request)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's sign-in page, behind the sign-in lock the API and the site use."""
    email = request.POST.get("username", "") if request.method == "POST" else ""
    try:
        login_lock_check(request=request, email=email)
    except LoginThrottled as error:
        return too_many_requests(request, retry_after=error.wait)
    return admin.site.login(request)
