"""Account API serializers: validation and output only; writes go through services."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import ApiKey, User
from accounts.rbac import PERMISSIONS, permissions_for, quotas_for


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class UserSerializer(serializers.ModelSerializer):
    permissions = serializers.SerializerMethodField()
    quotas = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "email", "display_name", "role", "date_joined", "permissions", "quotas")
        read_only_fields = ("id", "email", "role", "date_joined")

    def get_permissions(self, user: User) -> list[str]:
        return sorted(permissions_for(user))

    def get_quotas(self, user: User) -> dict[str, int | None]:
        return vars(quotas_for(user))


class ApiKeySerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=PERMISSIONS), required=False
    )
    allowed_cidrs = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False
    )
    rate_limit_per_minute = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = (
            "id",
            "name",
            "prefix",
            "scopes",
            "allowed_cidrs",
            "rate_limit_per_minute",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "created_at",
            "is_active",
        )
        read_only_fields = ("id", "prefix", "last_used_at", "revoked_at", "created_at")


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "key")
