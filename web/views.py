"""Account pages outside allauth: API keys (create shows the secret once; revoke), the theme."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.rbac import PERMISSIONS, has_permission
from accounts.selectors import api_keys_for
from accounts.services import api_key_create, api_key_revoke

# What each permission lets a key do, in words.
SCOPE_LABELS = {
    "audio:upload": "Upload samples",
    "audio:download": "Download and play samples",
    "audio:edit": "Edit samples",
    "audio:delete": "Delete samples",
    "audio:analyze": "Re-analyse samples",
    "audio:share": "Make samples public",
    "audio:batch": "Batch and zip uploads",
    "search:basic": "Search",
    "search:similar": "Find similar sounds",
    "search:advanced": "Advanced search",
    "collection:create": "Create collections",
    "collection:edit": "Edit collections",
    "collection:delete": "Delete collections",
    "collection:share": "Share collections",
    "api:keys": "Manage API keys",
    "admin:users": "Administer users",
    "admin:analytics": "Read analytics",
    "admin:system": "Administer the system",
}
# A new key starts read-only: a script gets more only when its owner ticks it.
DEFAULT_SCOPES = ("search:basic", "audio:download")
EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, label="Key name")
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one thing the key may do."},
    )
    expires = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expires")
    networks = forms.CharField(
        required=False,
        label="Only from these networks",
        help_text="Addresses or CIDR ranges, separated by commas (e.g. 203.0.113.0/24); "
        "empty for anywhere.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = [name for name in PERMISSIONS if has_permission(user, name)]
        self.fields["scopes"].choices = [(name, SCOPE_LABELS.get(name, name)) for name in allowed]
        self.fields["scopes"].initial = [name for name in DEFAULT_SCOPES if name in allowed]

    def create_arguments(self) -> dict:
        data = self.cleaned_data
        days = data.get("expires")
        return {
            "name": data["name"],
            "scopes": data["scopes"],
            "expires_at": timezone.now() + timedelta(days=int(days)) if days else None,
            "allowed_cidrs": [c.strip() for c in data.get("networks", "").split(",") if c.strip()],
        }


@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    allowed = has_permission(request.user, "api:keys")
    form = ApiKeyForm(request.POST or None, user=request.user)
    secret = None
    if request.method == "POST" and allowed and form.is_valid():
        try:
            key, secret = api_key_create(
                owner=request.user, request=request, **form.create_arguments()
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            form = ApiKeyForm(user=request.user)
            messages.success(request, f"Created “{key.name}”. Copy the secret now.")
    keys = list(api_keys_for(user=request.user))
    for key in keys:
        key.scope_labels = [SCOPE_LABELS.get(name, name) for name in key.scopes]
    return render(
        request,
        "web/api_keys.html",
        {"allowed": allowed, "form": form, "secret": secret, "keys": keys, "now": timezone.now()},
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
