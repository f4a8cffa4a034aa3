"""Errors a person can cause while organising, in the shared shape."""

from samplemind.errors import ProductError


class NearDuplicate(ProductError):
    """The upload sounds like a sample already in the library (``keep_duplicate`` overrides)."""

    status = 409
    code = "near_duplicate"
