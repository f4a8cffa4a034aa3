"""Errors a person can cause, raised by services and shown by pages and the API alike.

Each carries an HTTP status and a stable code; the API's exception handler
turns them into the shared error shape, pages show ``message``. Here are the
base class and the errors every app raises; an app's own live in its
``errors`` module (``library.errors``, ``search.errors``, ``billing.errors``).
"""

from __future__ import annotations

from typing import Any


class ProductError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class Duplicate(ProductError):
    status = 409
    code = "duplicate"


class QuotaExceeded(ProductError):
    status = 403
    code = "quota_exceeded"


class NotAllowed(ProductError):
    status = 403
    code = "permission_denied"
