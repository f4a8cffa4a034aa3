"""Stop Stripe charging a person whose account is deleted."""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from billing import gateway
from billing.models import TERMINAL_STATUSES, Subscription


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="billing_end_subscriptions")
def end_subscriptions_of_deleted_user(sender, instance, **kwargs) -> None:
    if not gateway.is_configured():
        return
    from billing.tasks import stripe_subscription_end

    ids = (
        Subscription.objects.filter(user=instance)
        .exclude(stripe_subscription_id="")
        .exclude(status__in=TERMINAL_STATUSES)
        .values_list("stripe_subscription_id", flat=True)
    )
    for subscription_id in ids:
        # Only once the deletion has committed: a rolled-back deletion keeps paying.
        stripe_subscription_end.delay_on_commit(subscription_id)
