"""Forms for billing: the admin's form for assigning a plan by hand."""

from __future__ import annotations

from django import forms

from billing.models import Subscription


class ManualSubscriptionForm(forms.ModelForm):
    """A plan assigned by an administrator; one per person, changed in place afterwards."""

    class Meta:
        model = Subscription
        fields = ("user", "plan", "status", "current_period_end")

    def clean(self) -> dict:
        data = super().clean()
        user = data.get("user")
        others = Subscription.objects.filter(user=user, stripe_subscription_id="")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if user is not None and others.exists():
            raise forms.ValidationError(
                "This person already has a manually assigned plan; change that one.",
                code="unique_manual_plan",
            )
        return data
