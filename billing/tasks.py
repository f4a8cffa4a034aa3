"""Celery tasks for billing: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from billing import gateway, services

TRANSIENT = (OSError, OperationalError, InterfaceError, *gateway.TRANSIENT_ERRORS)


@shared_task(
    name="billing.reconcile",
    ignore_result=True,
    # Acknowledged on receipt: it may outlast the broker's visibility timeout, and a lost
    # run waits for the next night's. A retry's countdown stays below that timeout, so
    # Stripe is given about half an hour in many short steps.
    acks_late=False,
    autoretry_for=TRANSIENT,
    retry_backoff=60,
    retry_backoff_max=90,
    max_retries=20,
    soft_time_limit=600,
    time_limit=660,
)
def reconcile() -> dict[str, int]:
    """Nightly: end manual plans past their end date, apply Stripe events the webhook missed."""
    ended = services.subscriptions_manual_expire()
    return {"manual_ended": ended, **services.stripe_events_reconcile()}


@shared_task(
    name="billing.stripe_subscription_end",
    ignore_result=True,
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    retry_backoff_max=90,  # below the broker's visibility timeout: about an hour in all
    max_retries=40,
)
def stripe_subscription_end(subscription_id: str) -> None:
    """Stop charging for a deleted account's subscription (ending twice is harmless)."""
    services.stripe_subscription_end(subscription_id=subscription_id)
