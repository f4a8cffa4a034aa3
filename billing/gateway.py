"""The Stripe boundary: every call to Stripe goes through here, with plain dicts out.

Nothing else in the project imports ``stripe``. The client is built per call
from the settings (``STRIPE_SECRET_KEY``, and ``STRIPE_API_BASE`` to point the
SDK at another server, such as stripe-mock or a test's recorded responses).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import stripe
from django.conf import settings

from billing.errors import ManualBilling, PaymentProviderError

logger = logging.getLogger(__name__)

SignatureVerificationError = stripe.SignatureVerificationError
# Worth retrying later (a Celery task's autoretry_for): Stripe was not reached or was busy.
TRANSIENT_ERRORS = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def is_configured() -> bool:
    """Whether billing runs through Stripe; without a secret key it is manual."""
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise ManualBilling("Plan changes are handled by the administrator.")
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=2
    )


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _call(what: str, function, *args, **kwargs) -> dict[str, Any]:
    try:
        return _plain(function(*args, **kwargs))
    except stripe.StripeError as error:
        logger.warning("Stripe refused %s: %s", what, error)
        raise PaymentProviderError(
            "The payment provider could not be reached or refused the request; "
            "nothing was changed. Try again in a moment.",
            details={"provider_message": getattr(error, "user_message", None) or ""},
        ) from error


def event_construct(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """Verify a webhook body against ``STRIPE_WEBHOOK_SECRET`` and return the event.

    Raises :class:`SignatureVerificationError` for a missing, malformed, wrong
    or too old signature, and ``ValueError`` for a body that is not JSON.
    """
    event = stripe.Webhook.construct_event(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, api_key=settings.STRIPE_SECRET_KEY
    )
    return _plain(event)


def checkout_session_create(
    *,
    price_id: str,
    customer_id: str,
    email: str,
    success_url: str,
    cancel_url: str,
    metadata: dict[str, str],
) -> dict[str, Any]:
    """A hosted Checkout page for a monthly subscription to ``price_id``."""
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": metadata["user_id"],
        "metadata": metadata,
        # The subscription carries who it is for, so its own events can be matched.
        "subscription_data": {"metadata": metadata},
    }
    if customer_id:
        params["customer"] = customer_id
    else:
        params["customer_email"] = email
    return _call("a checkout session", _client().v1.checkout.sessions.create, params)


def portal_session_create(*, customer_id: str, return_url: str) -> dict[str, Any]:
    params = {"customer": customer_id, "return_url": return_url}
    return _call("a portal session", _client().v1.billing_portal.sessions.create, params)


def subscription_update(*, subscription_id: str, cancel_at_period_end: bool) -> dict[str, Any]:
    params = {"cancel_at_period_end": cancel_at_period_end}
    return _call(
        "a subscription change", _client().v1.subscriptions.update, subscription_id, params
    )


def subscription_cancel(*, subscription_id: str) -> dict[str, Any]:
    """End a subscription now; one that has already ended counts as done."""
    try:
        return _plain(_client().v1.subscriptions.cancel(subscription_id))
    except stripe.InvalidRequestError as error:
        if error.http_status == 404 or "canceled" in str(error):
            return {"id": subscription_id, "status": "canceled"}
        raise


def events_since(*, types: list[str], created_after: int) -> Iterator[dict[str, Any]]:
    """Every event of ``types`` Stripe created after a Unix time, oldest first.

    Stripe keeps events for 30 days. Connection errors propagate so a task can retry.
    """
    params = {"types": types, "created": {"gt": created_after}, "limit": 100}
    events = [_plain(event) for event in _client().v1.events.list(params).auto_paging_iter()]
    return iter(sorted(events, key=lambda event: (event["created"], event["id"])))
