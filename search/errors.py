"""Errors a search can run into, in the product's error shape (see samplemind.errors)."""

from samplemind.errors import ProductError


class NotAnalysed(ProductError):
    """The sample has no timbre embedding yet, so nothing can sound like it."""

    status = 409
    code = "not_analysed"
