"""A database that does not answer gets a quick 503, never a hang or a 500.

The timeouts in settings (libpq's ``connect_timeout``, the pool's ``timeout``)
make such a database fail a request's first query within about a second, as
Django's ``OperationalError`` (the pool's ``PoolTimeout`` included). This turns
that error into a 503 with ``Retry-After``: a page saying so for people, the
shared error shape with the code ``database_unavailable`` for the API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from samplemind.api import error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
OUTAGE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError)


def is_database_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: JSON under ``/api/``, a page elsewhere; neither touches the database."""
    if request.path.startswith("/api/"):
        message = "The database is not answering; try again shortly."
        details = {"retry_after": RETRY_AFTER_SECONDS}
        response = JsonResponse(error_body("database_unavailable", message, details), status=503)
    else:
        # No request context: its processors would look up the user in the database.
        page = render_to_string("503.html", {"path": request.get_full_path()})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseOutageMiddleware:
    """Answers 503 when a view fails because the database is not answering.

    Errors raised by other middleware reach ``handler500``
    (``samplemind.handlers.server_error``), which answers the same way.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        logger.warning("database unavailable: %s", exception)
        return database_unavailable(request)
