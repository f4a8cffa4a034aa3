"""Writing the audit log: one function, called by services and signal receivers."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from accounts.models import AuditLog, User
from accounts.network import client_ip


def audit_log_record(
    *,
    action: str,
    actor: User | None = None,
    actor_email: str = "",
    target: models.Model | None = None,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one entry; never stores secrets (callers pass only safe details)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditLog.objects.create(
        actor=actor,
        actor_email=actor_email or (actor.email if actor else ""),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:512],
        details=details or {},
    )
