"""The library's errors a person can cause: bad audio, too large, bad archive, a gone file.

Each is a :class:`samplemind.errors.ProductError`, so the API's exception
handler gives it the shared error shape and pages show its ``message``.
"""

from __future__ import annotations

from django.http import Http404

from samplemind.errors import ProductError


class InvalidAudio(ProductError):
    code = "invalid_audio"


class FileTooLarge(ProductError):
    status = 413
    code = "too_large"


class ArchiveRejected(ProductError):
    code = "invalid_archive"


class FileMissing(ProductError, Http404):
    """A row whose stored file is gone (e.g. after restoring an older backup).

    Also an ``Http404``, so pages answer their usual 404 page.
    """

    status = 404
    code = "file_missing"
