"""Errors a person can cause, raised by services and shown by pages and the API alike.

Each carries an HTTP status and a stable code; the API's exception handler
turns them into the shared error shape, pages show ``message``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404


class ProductError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidAudio(ProductError):
    code = "invalid_audio"


class FileTooLarge(ProductError):
    status = 413
    code = "too_large"


class ArchiveRejected(ProductError):
    code = "invalid_archive"


class QuotaExceeded(ProductError):
    status = 403
    code = "quota_exceeded"


class Duplicate(ProductError):
    status = 409
    code = "duplicate"


class NotAllowed(ProductError):
    status = 403
    code = "permission_denied"


class FileMissing(ProductError, Http404):
    """A row whose stored file is gone (e.g. after restoring an older backup).

    Also an ``Http404``, so pages answer their usual 404 page.
    """

    status = 404
    code = "file_missing"
