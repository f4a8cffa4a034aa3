"""Billing pages under /billing/."""

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("plans/", views.pricing, name="pricing"),
    path("checkout/<slug:code>/", views.checkout, name="checkout"),
    path("portal/", views.portal, name="portal"),
    path("cancel/", views.cancel, name="cancel"),
    path("resume/", views.resume, name="resume"),
    path("webhook/", views.webhook, name="webhook"),
]
