"""Billing endpoints under /api/v1/billing/."""

from django.urls import path

from billing.api import views

urlpatterns = [
    path("billing/plans", views.PlanListView.as_view(), name="billing-plans"),
    path("billing/subscription", views.SubscriptionView.as_view(), name="billing-subscription"),
    path("billing/checkout", views.CheckoutView.as_view(), name="billing-checkout"),
    path("billing/portal", views.PortalView.as_view(), name="billing-portal"),
]
