"""Writes to accounts: registration, profile, roles, API keys, the admin account."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import datetime

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core import context
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import audit_log_record
from accounts.models import ApiKey, RateLimitOverride, Role, User
from accounts.rbac import has_permission, permissions_for
from accounts.selectors import email_verification_required
from accounts.signals import user_deleting
from samplemind.text import plain_text

API_KEY_PREFIX = "sm_live_"


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def user_register(
    *, email: str, password: str, display_name: str = "", request: HttpRequest | None = None
) -> User | None:
    """Create a free account; the email is unique whatever its case.

    A taken address returns None when the address must be confirmed before
    sign-in (``ACCOUNT_EMAIL_VERIFICATION=mandatory``): its owner gets allauth's
    "someone tried to sign up" mail, and the caller answers as for a new
    account, so sign-up does not tell who has one (allauth's enumeration
    prevention). Otherwise a taken address is a ``ValidationError``.
    """
    email = User.objects.normalize_email(email).strip()
    user = User(email=email, display_name=plain_text(display_name)[:150])
    validate_password(password, user)  # first, so a weak password answers alike
    user.set_password(password)  # also for a taken address: the same work, the same delay
    owner = User.objects.filter(email__iexact=email).first()
    if owner is not None:
        if not email_verification_required():
            raise ValidationError({"email": "An account with this email address already exists."})
        _mail_account_exists(owner.email, request)
        return None
    user.save()
    # The same email record and confirmation mail as a sign-up through the pages.
    address = EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    if request is not None:
        address.send_confirmation(getattr(request, "_request", request), signup=True)
    audit_log_record(action="user.signed_up", actor=user, target=user, request=request)
    return user


def _mail_account_exists(email: str, request: HttpRequest | None) -> None:
    """allauth's mail to an address's owner: someone tried to sign up with it."""
    if request is None:
        return
    with context.request_context(getattr(request, "_request", request)):
        get_adapter().send_account_already_exists_mail(email)


@transaction.atomic
def user_update(*, user: User, display_name: str | None = None) -> User:
    """Change what a person may change about themselves (not their role)."""
    if display_name is not None:
        user.display_name = plain_text(display_name)[:150]
    user.save(update_fields=["display_name"])
    return user


@transaction.atomic
def user_role_set(
    *, user: User, role: str, actor: User | None, request: HttpRequest | None = None
) -> User:
    """Move a user to another role; admin-role users are staff, others lose staff."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    previous = user.role
    if previous == role:
        return user
    user.role = role
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff"])
    audit_log_record(
        action="user.role_changed",
        actor=actor,
        target=user,
        request=request,
        details={"from": previous, "to": role},
    )
    return user


ACCESS_FLAGS = {
    "is_active": ("user.activated", "user.deactivated"),
    "is_superuser": ("user.superuser_granted", "user.superuser_revoked"),
}


@transaction.atomic
def user_access_set(
    *,
    user: User,
    actor: User | None,
    request: HttpRequest | None = None,
    is_active: bool | None = None,
    is_superuser: bool | None = None,
) -> User:
    """Switch an account on or off, or grant or take away superuser; each change is audited."""
    wanted = {"is_active": is_active, "is_superuser": is_superuser}
    changed = [
        flag for flag, value in wanted.items() if value is not None and getattr(user, flag) != value
    ]
    for flag in changed:
        setattr(user, flag, wanted[flag])
    if changed:
        user.save(update_fields=changed)
    for flag in changed:
        granted, taken = ACCESS_FLAGS[flag]
        audit_log_record(
            action=granted if wanted[flag] else taken, actor=actor, target=user, request=request
        )
    return user


@transaction.atomic
def user_delete(*, user: User, actor: User | None, request: HttpRequest | None = None) -> None:
    """Delete an account and everything it owns, keeping an audit entry.

    ``user_deleting`` goes out first, in this transaction: the library deletes
    the samples through its own service so their originals and previews leave
    storage (after commit); the cascade alone would orphan them.
    """
    details = {"user_id": user.pk, "email": user.email, "role": user.role}
    user_deleting.send(sender=User, user=user)
    user.delete()
    audit_log_record(action="user.deleted", actor=actor, request=request, details=details)


def _validated_cidrs(cidrs: list[str]) -> list[str]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(str(ipaddress.ip_network(str(cidr).strip(), strict=False)))
        except ValueError:
            raise ValidationError({"allowed_cidrs": f"{cidr!r} is not a network."}) from None
    return networks


@transaction.atomic
def api_key_create(
    *,
    owner: User,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    allowed_cidrs: list[str] | None = None,
    rate_limit_per_minute: int | None = None,
    request: HttpRequest | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its full secret, which is never stored or shown again.

    Scopes default to all of the owner's permissions and may not exceed them;
    a key made with another key gets no scope that key lacks.
    """
    allowed = {name for name in permissions_for(owner) if has_permission(owner, name)}
    scopes = sorted(set(scopes if scopes is not None else allowed))
    if extra := [scope for scope in scopes if scope not in allowed]:
        raise ValidationError(
            {"scopes": f"Not permitted for your role or this key: {', '.join(extra)}."}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    name = plain_text(name).strip()[:100]
    if not name:
        raise ValidationError({"name": "Give the key a name."})
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        owner=owner,
        name=name,
        prefix=secret[: len(API_KEY_PREFIX) + 4],
        secret_hash=api_key_hash(secret),
        scopes=scopes,
        allowed_cidrs=_validated_cidrs(allowed_cidrs or []),
        rate_limit_per_minute=rate_limit_per_minute,
        expires_at=expires_at,
    )
    audit_log_record(
        action="api_key.created",
        actor=owner,
        target=key,
        request=request,
        details={"name": key.name, "prefix": key.prefix, "scopes": scopes},
    )
    return key, secret


@transaction.atomic
def api_key_revoke(
    *, key: ApiKey, actor: User | None, request: HttpRequest | None = None
) -> ApiKey:
    """Revoke a key at once; revoking twice is harmless."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_log_record(
            action="api_key.revoked",
            actor=actor,
            target=key,
            request=request,
            details={"name": key.name, "prefix": key.prefix},
        )
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record use, at most once a minute per key so busy keys do not write on every call."""
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


@transaction.atomic
def rate_limit_override_set(
    *,
    user: User,
    api_requests_per_minute: int | None,
    reason: str = "",
    expires_at: datetime | None = None,
    actor: User | None,
    request: HttpRequest | None = None,
) -> RateLimitOverride:
    """Give one account its own requests-per-minute limit (None: unlimited)."""
    override, _ = RateLimitOverride.objects.update_or_create(
        user=user,
        defaults={
            "api_requests_per_minute": api_requests_per_minute,
            "reason": plain_text(reason)[:300],
            "expires_at": expires_at,
            "created_by": actor,
        },
    )
    _forget_override(user.pk)
    audit_log_record(
        action="rate_limit.overridden",
        actor=actor,
        target=user,
        request=request,
        details={"api_requests_per_minute": api_requests_per_minute, "reason": override.reason},
    )
    return override


@transaction.atomic
def rate_limit_override_clear(
    *, user: User, actor: User | None, request: HttpRequest | None = None
) -> None:
    deleted, _ = RateLimitOverride.objects.filter(user=user).delete()
    _forget_override(user.pk)
    if deleted:
        audit_log_record(action="rate_limit.reset", actor=actor, target=user, request=request)


def _forget_override(user_id: int) -> None:
    from accounts.selectors import override_cache_key

    # Now, for this request; again after commit, for a reader that cached the old row meanwhile.
    cache.delete(override_cache_key(user_id))
    transaction.on_commit(lambda: cache.delete(override_cache_key(user_id)))


@transaction.atomic
def admin_ensure(*, email: str, password: str | None) -> tuple[User, str | None]:
    """Make sure an admin account with ``email`` exists.

    Returns the user and the password to show: the generated one when the
    account is new and no password was given, otherwise None. An explicit
    password is (re)applied so the configured login always works.
    """
    user = User.objects.filter(email__iexact=email).first()
    shown = None
    if user is None:
        shown = None if password else secrets.token_urlsafe(12)
        user = User.objects.create_superuser(email, password or shown)
    else:
        user.role, user.is_superuser, user.is_active = Role.ADMIN, True, True
        if password:
            user.set_password(password)
        user.save()
    # The operator chose this address: with mandatory verification it must not wait for a mail.
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user, shown
