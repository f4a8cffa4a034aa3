"""allauth adapters: the client address, SampleMind's user fields, switched-off providers."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from allauth.utils import build_absolute_uri
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import reverse

from accounts.errors import LoginThrottled
from accounts.login import login_lock_check
from accounts.network import client_ip
from accounts.views import too_many_requests
from samplemind.text import plain_text


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """The sign-in page's lock is the API's (accounts.login): a 429 page with Retry-After."""
        email = str(credentials.get("email") or credentials.get("username") or "")
        try:
            login_lock_check(request=request, email=email)
        except LoginThrottled as error:
            answer = too_many_requests(request, retry_after=error.wait)
            raise ImmediateHttpResponse(answer) from None
        super().pre_authenticate(request, **credentials)

    def send_account_already_exists_mail(self, email: str) -> None:
        """Tell an address's owner that someone tried to sign up with it: sign in, or reset.

        Sent instead of creating a second account, so sign-up answers a taken
        address as it answers a new one (allauth's enumeration prevention).
        """
        request = context.request
        links = {
            "login_url": build_absolute_uri(request, reverse("account_login")),
            "password_reset_url": build_absolute_uri(request, reverse("account_reset_password")),
        }
        self.send_mail("account/email/account_already_exists", email, links)

    def get_client_ip(self, request: HttpRequest) -> str:
        """The same address as the rest of the site uses (see accounts.network)."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client's address.")
        return ip


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_app(self, request, provider, client_id=None):
        """A provider without credentials is switched off: its pages are 404, not 500."""
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404(f"Sign-in with {provider} is not enabled on this server.") from None

    def populate_user(self, request, sociallogin, data):
        """Fill the display name from what the provider tells (allauth knows first/last name)."""
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        if name and not user.display_name:
            user.display_name = plain_text(name)[:150]
        return user
