"""Billing JSON: plans with their quotas, a person's subscription and usage."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing import selectors
from billing.models import Plan, Subscription


class QuotasSerializer(serializers.Serializer):
    """Limits of a plan; null is unlimited."""

    uploads_per_day = serializers.IntegerField(allow_null=True)
    storage_bytes = serializers.IntegerField(allow_null=True)
    api_requests_per_minute = serializers.IntegerField(allow_null=True)
    collections = serializers.IntegerField(allow_null=True)
    batch_size = serializers.IntegerField(allow_null=True)


class PlanSerializer(serializers.ModelSerializer):
    code = serializers.CharField(
        read_only=True, help_text="The role the plan gives: free, pro, ..."
    )
    price = serializers.IntegerField(source="price_cents", help_text="Monthly, in cents.")
    interval = serializers.SerializerMethodField()
    quotas = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    purchasable = serializers.SerializerMethodField(
        help_text="Whether POST /billing/checkout accepts this plan."
    )

    class Meta:
        model = Plan
        fields = (
            "code",
            "name",
            "description",
            "price",
            "currency",
            "interval",
            "quotas",
            "permissions",
            "purchasable",
        )

    def get_interval(self, plan: Plan) -> str:
        return "month"

    @extend_schema_field(QuotasSerializer)
    def get_quotas(self, plan: Plan) -> dict:
        return asdict(plan.quotas)

    def get_permissions(self, plan: Plan) -> list[str]:
        return sorted(plan.permissions)

    def get_purchasable(self, plan: Plan) -> bool:
        return selectors.plan_is_purchasable(plan)


class SubscriptionSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="Stripe's status: active, trialing, past_due, canceled, ..."
    )
    source = serializers.SerializerMethodField(help_text="stripe, or manual (an administrator)")

    class Meta:
        model = Subscription
        fields = (
            "plan",
            "status",
            "source",
            "current_period_end",
            "cancel_at_period_end",
            "canceled_at",
            "created_at",
        )

    def get_source(self, subscription: Subscription) -> str:
        return "manual" if subscription.is_manual else "stripe"


class MeterSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited")


class UsageSerializer(serializers.Serializer):
    uploads_today = MeterSerializer()
    storage_bytes = MeterSerializer()
    collections = MeterSerializer()
    api_requests_minute = MeterSerializer()
    api_requests_today = MeterSerializer()


class BillingStatusSerializer(serializers.Serializer):
    """The person's plan (from their role), the subscription behind it, and their usage."""

    mode = serializers.CharField(help_text="stripe, or manual: plans are assigned by an admin")
    role = serializers.CharField()
    plan = PlanSerializer(allow_null=True, help_text="null for administrators (no limits).")
    subscription = SubscriptionSerializer(allow_null=True)
    usage = UsageSerializer()


class CheckoutRequestSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=16, help_text="A plan code, e.g. pro.")


class CheckoutSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The Stripe Checkout session id.")
    url = serializers.URLField(help_text="Send the person here to pay.")


class PortalSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The Stripe customer portal for this person.")
