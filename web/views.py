"""Account pages outside allauth: API keys (create shows the secret once; revoke), the theme."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.rbac import has_permission
from accounts.selectors import api_keys_for
from accounts.services import api_key_create, api_key_revoke


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, label="Key name")


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    allowed = has_permission(request.user, "api:keys")
    form = ApiKeyForm(request.POST or None)
    secret = None
    if request.method == "POST" and allowed and form.is_valid():
        try:
            key, secret = api_key_create(
                owner=request.user, name=form.cleaned_data["name"], request=request
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            form = ApiKeyForm()
            messages.success(request, f"Created “{key.name}”. Copy the secret now.")
    return render(
        request,
        "web/api_keys.html",
        {
            "allowed": allowed,
            "form": form,
            "secret": secret,
            "keys": api_keys_for(user=request.user),
        },
    )


@login_required
@require_POST
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(api_keys_for(user=request.user), pk=pk)
    api_key_revoke(key=key, actor=request.user, request=request)
    messages.success(request, f"Revoked “{key.name}”.")
    return redirect("web:api-keys")


THEMES = ("dark", "light")


@require_POST
def theme(request: HttpRequest) -> HttpResponse:
    """Switch between the dark (default) and light themes; a cookie remembers the choice."""
    choice = request.POST.get("theme")
    if choice not in THEMES:
        return HttpResponseBadRequest("Choose the dark or the light theme.")
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = "/"
    response = redirect(back)
    response.set_cookie("theme", choice, max_age=365 * 24 * 3600, samesite="Lax")
    return response
