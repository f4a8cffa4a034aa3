"""Administration endpoints under /api/v1/admin/: users, audit log, rate limits.

admin/analytics is the library's (library/api/staff.py): its figures are about samples.
"""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import AuditLog, RateLimitOverride, Role
from accounts.permissions import Allowed
from accounts.rbac import quota
from accounts.selectors import rate_limit_override_for

User = get_user_model()


class AdminUserSerializer(serializers.ModelSerializer):
    sample_count = serializers.IntegerField(read_only=True)
    storage_bytes = serializers.IntegerField(read_only=True)

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "display_name",
            "role",
            "is_active",
            "date_joined",
            "last_login",
            "sample_count",
            "storage_bytes",
        )


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    is_active = django_filters.BooleanFilter()
    joined_after = django_filters.DateTimeFilter(field_name="date_joined", lookup_expr="gte")
    q = django_filters.CharFilter(method="search", help_text="Email or display name contains.")
    ordering = django_filters.OrderingFilter(fields=("email", "date_joined", "last_login", "role"))

    class Meta:
        model = User
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(Q(email__icontains=value) | Q(display_name__icontains=value))


class AdminUserListView(generics.ListAPIView):
    """Every account with its usage; filter by role, activity, join date or text."""

    serializer_class = AdminUserSerializer
    permission_classes = [Allowed("admin:users")]
    filterset_class = UserFilter

    def get_queryset(self):
        return User.objects.annotate(
            sample_count=Count("samples"), storage_bytes=Sum("samples__size_bytes")
        ).order_by("-date_joined")


class AuditLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditLog
        fields = (
            "id",
            "created_at",
            "action",
            "actor",
            "actor_email",
            "target_type",
            "target_id",
            "ip_address",
            "user_agent",
            "details",
        )


class AuditLogFilter(django_filters.FilterSet):
    action = django_filters.CharFilter()
    action_prefix = django_filters.CharFilter(field_name="action", lookup_expr="startswith")
    actor = django_filters.NumberFilter()
    actor_email = django_filters.CharFilter(lookup_expr="iexact")
    target_type = django_filters.CharFilter()
    target_id = django_filters.CharFilter()
    ip_address = django_filters.CharFilter()
    since = django_filters.DateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = django_filters.DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields: list[str] = []


class AuditLogListView(generics.ListAPIView):
    """The audit log, newest first, filtered by action, actor, target, address or time."""

    serializer_class = AuditLogSerializer
    permission_classes = [Allowed("admin:system")]
    filterset_class = AuditLogFilter
    queryset = AuditLog.objects.all()


class RateLimitInput(serializers.Serializer):
    user_id = serializers.IntegerField()
    api_requests_per_minute = serializers.IntegerField(min_value=1, allow_null=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    reset = serializers.BooleanField(default=False, help_text="Remove the override instead.")


class RateLimitView(APIView):
    """GET ?user_id= shows one account's limits; POST overrides (or resets) them."""

    permission_classes = [Allowed("admin:users")]

    def _limits(self, user) -> dict:
        override = rate_limit_override_for(user=user)
        stored = RateLimitOverride.objects.filter(user=user).first()
        role_limit = quota(user, "api_requests_per_minute")
        return {
            "user_id": user.pk,
            "email": user.email,
            "role": user.role,
            "role_limit_per_minute": role_limit,
            "override": None
            if stored is None
            else {
                "api_requests_per_minute": stored.api_requests_per_minute,
                "reason": stored.reason,
                "expires_at": stored.expires_at,
                "active": stored.is_active,
            },
            "effective_limit_per_minute": override.api_requests_per_minute
            if override is not None
            else role_limit,
        }

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        user_id = request.query_params.get("user_id", "")
        if not user_id.isdigit():
            raise serializers.ValidationError({"user_id": ["Give the account's numeric id."]})
        return Response(self._limits(get_object_or_404(User, pk=int(user_id))))

    @extend_schema(request=RateLimitInput, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = RateLimitInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_object_or_404(User, pk=data.validated_data["user_id"])
        if data.validated_data["reset"]:
            services.rate_limit_override_clear(user=user, actor=request.user, request=request)
        else:
            services.rate_limit_override_set(
                user=user,
                api_requests_per_minute=data.validated_data["api_requests_per_minute"],
                reason=data.validated_data.get("reason", ""),
                expires_at=data.validated_data.get("expires_at"),
                actor=request.user,
                request=request,
            )
        return Response(self._limits(user))
