"""Billing pages: pricing, the person's plan and usage, upgrade and cancel; Stripe's webhook."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from billing import gateway, selectors, services
from billing.models import SubscriptionStatus
from samplemind.api import error_body
from samplemind.errors import ProductError

logger = logging.getLogger(__name__)


def _absolute(request: HttpRequest, name: str, query: str = "") -> str:
    return request.build_absolute_uri(reverse(name)) + query


def _away(url: str) -> HttpResponseRedirect:
    # 303: the browser follows a POST's answer with a GET to Stripe's page.
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    """Every plan side by side; a signed-in person sees theirs marked and what they can buy."""
    user = request.user
    current = selectors.plan_for_user(user=user) if user.is_authenticated else None
    has_stripe_subscription = user.is_authenticated and any(
        not sub.is_manual for sub in selectors.subscriptions_entitled(user=user)
    )
    if request.GET.get("checkout") == "canceled":
        messages.info(request, "Checkout was cancelled; nothing was charged.")
    return render(
        request,
        "billing/pricing.html",
        {
            "plans": [
                {
                    "plan": plan,
                    "purchasable": selectors.plan_is_purchasable(plan),
                    "features": selectors.plan_features(plan),
                }
                for plan in selectors.plans_listed()
            ],
            "current": current,
            "mode": selectors.billing_mode(),
            "has_stripe_subscription": has_stripe_subscription,
            "is_admin": user.is_authenticated and current is None,
        },
    )


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The person's plan, the subscription behind it and usage bars against the quotas."""
    user = request.user
    if request.GET.get("checkout") == "success":
        messages.success(
            request,
            "Thank you! Your plan changes as soon as Stripe confirms the payment, "
            "usually within a few seconds.",
        )
    subscription = selectors.subscription_current(user=user)
    return render(
        request,
        "billing/overview.html",
        {
            "plan": selectors.plan_for_user(user=user),
            "subscription": subscription,
            "past_due": subscription is not None
            and subscription.status == SubscriptionStatus.PAST_DUE,
            "meters": selectors.usage_for(user=user),
            "mode": selectors.billing_mode(),
            "has_customer": bool(selectors.stripe_customer_id(user=user)),
        },
    )


@login_required
@require_POST
def checkout(request: HttpRequest, code: str) -> HttpResponse:
    try:
        session = services.checkout_start(
            user=request.user,
            plan_code=code,
            success_url=_absolute(request, "billing:overview", "?checkout=success"),
            cancel_url=_absolute(request, "billing:pricing", "?checkout=canceled"),
        )
    except ProductError as error:
        messages.error(request, error.message)
        return redirect("billing:pricing")
    return _away(session["url"])


@login_required
@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    try:
        session = services.portal_start(
            user=request.user, return_url=_absolute(request, "billing:overview")
        )
    except ProductError as error:
        messages.error(request, error.message)
        return redirect("billing:overview")
    return _away(session["url"])


@login_required
def cancel(request: HttpRequest) -> HttpResponse:
    """Confirm, then cancel at the end of the period already paid for."""
    subscription = selectors.subscription_current(user=request.user)
    if request.method == "POST":
        try:
            services.subscription_cancel_set(user=request.user, cancel=True, request=request)
        except ProductError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                "Your subscription is cancelled. You keep your plan until the end of the "
                "period you paid for; after that your files stay, within the free plan's limits.",
            )
        return redirect("billing:overview")
    return render(
        request,
        "billing/cancel.html",
        {
            "subscription": subscription,
            "cancellable": subscription is not None and subscription.is_cancellable,
            "mode": selectors.billing_mode(),
            "free": selectors.plan_by_code("free"),
        },
    )


@login_required
@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    """Withdraw a cancellation that has not taken effect yet."""
    try:
        services.subscription_cancel_set(user=request.user, cancel=False, request=request)
    except ProductError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your subscription continues; nothing changes.")
    return redirect("billing:overview")


@csrf_exempt  # Stripe signs the body instead; see gateway.event_construct.
@require_POST
def webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: 400 unless signed with ``STRIPE_WEBHOOK_SECRET``, 200 once recorded."""
    try:
        event = gateway.event_construct(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except gateway.SignatureVerificationError:
        logger.warning(
            "Stripe webhook with a bad signature from %s", request.META.get("REMOTE_ADDR")
        )
        return JsonResponse(
            error_body("bad_signature", "The Stripe-Signature header does not match."), status=400
        )
    except ValueError:
        event = None
    if not isinstance(event, dict) or not {"id", "type", "created", "data"} <= event.keys():
        return JsonResponse(error_body("invalid", "The body is not a Stripe event."), status=400)
    record, new = services.webhook_event_process(event=event)
    return JsonResponse({"received": True, "duplicate": not new, "outcome": record.outcome})
