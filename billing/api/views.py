"""Billing endpoints: plans, the signed-in person's subscription, checkout and portal links."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.api import serializers as s


def _page(request: Request, name: str, query: str = "") -> str:
    return request.build_absolute_uri(reverse(name)) + query


class PlanListView(APIView):
    """Every plan on the pricing page with its monthly price and quotas; no sign-in needed."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.PlanSerializer(many=True)})
    def get(self, request: Request) -> Response:
        plans = selectors.plans_listed()
        return Response(s.PlanSerializer(plans, many=True).data)


class SubscriptionView(APIView):
    """The signed-in person's plan, subscription and usage against the plan's quotas."""

    @extend_schema(responses={200: s.BillingStatusSerializer})
    def get(self, request: Request) -> Response:
        user = request.user
        usage = {
            meter.name: {"used": meter.used, "limit": meter.limit}
            for meter in selectors.usage_for(user=user)
        }
        plan = selectors.plan_for_user(user=user)
        subscription = selectors.subscription_current(user=user)
        return Response(
            {
                "mode": selectors.billing_mode(),
                "role": user.role,
                "plan": s.PlanSerializer(plan).data if plan else None,
                "subscription": s.SubscriptionSerializer(subscription).data
                if subscription
                else None,
                "usage": usage,
            }
        )


class CheckoutView(APIView):
    """Start paying for a larger plan: returns a Stripe Checkout link.

    409 ``billing_manual`` when billing is manual (the administrator assigns
    plans), 409 ``subscription_exists`` when a subscription is already
    running (use the portal), 400 ``plan_unavailable`` for a plan that is not
    sold or not larger than the current one.
    """

    @extend_schema(request=s.CheckoutRequestSerializer, responses={201: s.CheckoutSerializer})
    def post(self, request: Request) -> Response:
        data = s.CheckoutRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.checkout_start(
            user=request.user,
            plan_code=data.validated_data["plan"],
            success_url=_page(request, "billing:overview", "?checkout=success"),
            cancel_url=_page(request, "billing:pricing", "?checkout=canceled"),
        )
        return Response(s.CheckoutSerializer(session).data, status=status.HTTP_201_CREATED)


class PortalView(APIView):
    """A Stripe customer portal link (payment methods, invoices, plan changes, cancelling)."""

    @extend_schema(request=None, responses={200: s.PortalSerializer})
    def post(self, request: Request) -> Response:
        session = services.portal_start(
            user=request.user, return_url=_page(request, "billing:overview")
        )
        return Response(s.PortalSerializer(session).data)
