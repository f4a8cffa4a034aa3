"""Reads from accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiKey, AuditLog, User


def api_keys_for(*, user: User) -> QuerySet[ApiKey]:
    """The user's own keys, newest first; never anybody else's."""
    return ApiKey.objects.filter(owner=user).order_by("-created_at")


def audit_logs_for_target(*, target_type: str, target_id: str) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(target_type=target_type, target_id=target_id)
