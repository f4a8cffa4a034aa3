"""Billing errors a person can cause; the API and the pages show their message."""

from __future__ import annotations

from samplemind.errors import ProductError


class ManualBilling(ProductError):
    """Stripe is not configured: plans are assigned by an administrator."""

    status = 409
    code = "billing_manual"


class PlanUnavailable(ProductError):
    code = "plan_unavailable"


class SubscriptionExists(ProductError):
    status = 409
    code = "subscription_exists"


class NoBillingAccount(ProductError):
    status = 409
    code = "no_billing_account"


class PaymentProviderError(ProductError):
    """Stripe refused or could not be reached; nothing was changed here."""

    status = 502
    code = "payment_provider_error"
