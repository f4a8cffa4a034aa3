"""Account signals, and the audit-log receivers for sign-in, sign-up and password events.

``user_deleting`` is for other apps; the receivers listen to Django and allauth.
"""

from __future__ import annotations

from allauth.account.signals import password_changed, password_reset, user_signed_up
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import Signal, receiver

from accounts.audit import audit_log_record
from accounts.lockout import login_failure_record, login_failures_clear

# Sent by accounts.services.user_delete inside its transaction, before the user's row goes,
# with ``user``: apps that keep more than rows for the user (stored files) release it here.
# Accounts knows nothing of those apps; they connect to this.
user_deleting = Signal()


@receiver(user_logged_in, dispatch_uid="audit_login")
def _logged_in(sender, request, user, **kwargs) -> None:
    audit_log_record(
        action="login.succeeded", actor=user, request=request, details={"method": "session"}
    )


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Django masks the password in ``credentials``; only the identifier is kept.
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    audit_log_record(action="login.failed", actor_email=email, request=request)
    # Counted here so the API, the sign-in page and the admin share one lock.
    login_failure_record(email=email)


@receiver(user_signed_up, dispatch_uid="audit_signup")
def _signed_up(sender, request, user, **kwargs) -> None:
    audit_log_record(action="user.signed_up", actor=user, target=user, request=request)


@receiver(password_changed, dispatch_uid="audit_password_changed")
def _password_changed(sender, request, user, **kwargs) -> None:
    audit_log_record(action="password.changed", actor=user, target=user, request=request)


@receiver(password_reset, dispatch_uid="audit_password_reset")
def _password_reset(sender, request, user, **kwargs) -> None:
    audit_log_record(action="password.reset", actor=user, target=user, request=request)
    # The reset mail proved who it is: the sign-in lock need not make them wait.
    login_failures_clear(email=user.email)
