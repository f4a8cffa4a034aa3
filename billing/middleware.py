"""Counts each signed-in API request for the usage page (see :mod:`billing.usage`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from billing.usage import api_request_record

logger = logging.getLogger(__name__)


class ApiUsageMiddleware:
    """After an ``/api/`` response, count it for the signed-in caller.

    DRF authenticates inside the view and sets ``request.user`` on the Django
    request, so JWT and API-key callers are known by the time the response
    comes back. Requests refused by the rate limit (429) are not counted.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            request.path.startswith("/api/")
            and response.status_code != 429
            and user is not None
            and user.is_authenticated
        ):
            try:
                api_request_record(user_id=user.pk)
            except Exception:  # a usage figure is never worth failing a request over
                logger.warning("could not count an API request", exc_info=True)
        return response
