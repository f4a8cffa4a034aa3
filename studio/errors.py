"""Errors the studio's services raise, in the product's error shape (see samplemind.errors)."""

from samplemind.errors import ProductError


class NotAnalysed(ProductError):
    """The sample's tempo and key are not known yet."""

    status = 409
    code = "not_analysed"


class RenderFailed(ProductError):
    status = 422
    code = "render_failed"


class RendersBusy(ProductError):
    """Too many renders of this account are waiting; the view answers 429 with Retry-After."""

    status = 429
    code = "throttled"
    retry_after = 5
