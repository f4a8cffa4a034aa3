"""Factories for the billing app (plans are seeded by a migration)."""

import factory

from .accounts import UserFactory


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A subscription to a seeded plan, by code: ``SubscriptionFactory(plan__code="pro")``."""

    class Meta:
        model = "billing.Subscription"

    user = factory.SubFactory(UserFactory)
    plan = factory.LazyAttribute(lambda o: _plan(o.plan_code))

    class Params:
        plan_code = "pro"


def _plan(code: str):
    from billing.models import Plan

    return Plan.objects.get(code=code)
