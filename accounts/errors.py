"""Errors of signing in, raised by :mod:`accounts.login`; each caller answers them its own way."""

from __future__ import annotations

from samplemind.errors import ProductError


class LoginThrottled(ProductError):
    """Too many tries for the account or from the address; ``wait`` seconds until the next."""

    status = 429
    code = "throttled"
    default_message = "Too many sign-in attempts; wait a minute and try again."

    def __init__(self, *, wait: int) -> None:
        super().__init__(self.default_message, details={"retry_after": wait})
        self.wait = wait


class WrongCredentials(ProductError):
    status = 401
    code = "authentication_failed"


class EmailUnverified(ProductError):
    status = 403
    code = "email_unverified"
