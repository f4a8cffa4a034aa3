"""Signing in with email and password: the limits, the verification policy and the audit trail.

The API's ``auth/login`` calls :func:`jwt_login`; the sign-in page and the
admin's ask :func:`login_lock_check` (allauth keeps its own per-address
limits there). Each raises an error from :mod:`accounts.errors` that the
caller turns into its own answer (a 429 with Retry-After, a 401, a 403).
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from accounts import selectors
from accounts.audit import audit_log_record
from accounts.errors import EmailUnverified, LoginThrottled, WrongCredentials
from accounts.lockout import login_lock_seconds
from accounts.models import User

LOGIN_ATTEMPTS_PER_IP = "30/m"


def login_lock_check(*, request: HttpRequest, email: str, per_ip: bool = False) -> None:
    """Refuse (and audit) a try while the account is locked or, with ``per_ip``, the address busy.

    ``per_ip`` counts this try against the address's limit (the API's own;
    the pages leave addresses to allauth).
    """
    waits = [login_lock_seconds(email=email)]
    if per_ip:
        usage = get_usage(
            request, group="login-ip", key="ip", rate=LOGIN_ATTEMPTS_PER_IP, increment=True
        )
        if usage and usage["count"] > usage["limit"]:
            waits.append(max(usage["time_left"], 1))
    if max(waits) > 0:
        audit_log_record(action="login.throttled", actor_email=email[:254], request=request)
        raise LoginThrottled(wait=max(waits))


def jwt_login(*, request: HttpRequest, email: str, password: str) -> User:
    """The account ``email`` and ``password`` sign in to, for a JWT pair; audited either way."""
    login_lock_check(request=request, email=email, per_ip=True)
    # authenticate() sends user_login_failed, which the audit log and the lock record.
    user = authenticate(request, username=email, password=password)
    if user is None:
        raise WrongCredentials("Wrong email or password.")
    if selectors.email_verification_required() and not selectors.email_verified(user=user):
        audit_log_record(
            action="login.refused",
            actor=user,
            request=request,
            details={"reason": "email_unverified"},
        )
        raise EmailUnverified(
            "Confirm your email address first: follow the link in the mail sent when "
            "you signed up, or sign in on the website to get a new one."
        )
    audit_log_record(
        action="login.succeeded", actor=user, request=request, details={"method": "jwt"}
    )
    return user
