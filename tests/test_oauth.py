"""Signing in with Google, GitHub and Spotify, against SampleMind's own settings.

django-allauth's provider tests (``OAuth2TestsMixin``, ``mocked_response``) are
not part of the installed wheel, so this file follows their recipe: the
provider's HTTP API is replaced at ``requests.Session.request`` with canned
answers from allauth's own provider tests, while everything on our side (views,
sessions, the custom user model, the database, the cache) is real. Any request
to an address without a canned answer fails the test, so nothing reaches the
network.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core import mail

from accounts.models import AuditLog, Role, User
from tests.factories import UserFactory
from tests.mailbox import confirm_address

pytestmark = pytest.mark.django_db

CLIENT_ID = "app123id"
UNCHECKED_KEY = "an-id-token-key-allauth-never-checks"
PROVIDER_NAMES = {"google": "Google", "github": "GitHub", "spotify": "Spotify"}


def provider_settings(*provider_ids: str) -> dict:
    """SOCIALACCOUNT_PROVIDERS as settings.py builds it when the env credentials are set."""
    scopes = {
        "google": ["profile", "email"],
        "github": ["user:email"],
        "spotify": ["user-read-email"],
    }
    return {
        provider_id: {
            "APPS": [{"client_id": CLIENT_ID, "secret": "dummy", "key": ""}],
            "SCOPE": scopes[provider_id],
        }
        for provider_id in provider_ids
    }


@pytest.fixture(autouse=True)
def all_providers_configured(settings):
    settings.SOCIALACCOUNT_PROVIDERS = provider_settings("google", "github", "spotify")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def json_response(data: object, status: int = 200) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(data).encode()
    response.headers["Content-Type"] = "application/json"
    return response


@contextmanager
def provider_api(answers: dict[tuple[str, str], object]) -> Iterator[list[tuple[str, str]]]:
    """Answer the provider's HTTP API from ``answers`` ((method, url) -> JSON); list the calls."""
    calls: list[tuple[str, str]] = []

    def request(session, method, url, *args, **kwargs):
        calls.append((method.upper(), url))
        try:
            return json_response(answers[(method.upper(), url)])
        except KeyError:
            raise AssertionError(f"unexpected request to the provider: {method} {url}") from None

    with mock.patch.object(requests.Session, "request", request):
        yield calls


def provider_button_href(page: str, name: str) -> str:
    match = re.search(
        rf'<a class="[^"]*button--provider[^"]*" href="([^"]+)">Continue with {name}</a>', page
    )
    assert match, f"no 'Continue with {name}' button"
    return unescape(match.group(1))


def sign_in_with(client, provider_id: str, answers: dict) -> tuple[object, list]:
    """Click the provider's button on the login page and come back from the provider."""
    login_page = client.get("/accounts/login/").content.decode()
    href = provider_button_href(login_page, PROVIDER_NAMES[provider_id])
    assert urlsplit(href).path == f"/accounts/{provider_id}/login/"

    # SOCIALACCOUNT_LOGIN_ON_GET is off: the link shows a confirmation form that POSTs.
    confirm = client.get(href)
    assert confirm.status_code == 200
    assert 'method="post"' in confirm.content.decode()
    to_provider = client.post(href)
    assert to_provider.status_code == 302
    query = parse_qs(urlsplit(to_provider["Location"]).query)
    assert query["client_id"] == [CLIENT_ID]
    callback = f"/accounts/{provider_id}/login/callback/"
    assert urlsplit(query["redirect_uri"][0]).path == callback

    with provider_api(answers) as calls:
        response = client.get(callback, {"code": "test", "state": query["state"][0]})
    return response, calls


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# --------------------------------------------------------------------------- provider answers
# Profiles as in allauth's own provider tests (tests/apps/socialaccount/providers/*/tests.py).

TOKEN = {
    "access_token": "testac",
    "token_type": "Bearer",
    "expires_in": 3600,
    "refresh_token": "testrf",
}


def google_answers(email: str = "raymond.penners@example.com", verified: bool = True) -> dict:
    now = int(time.time())
    id_token = {
        "iss": "https://accounts.google.com",
        "azp": CLIENT_ID,
        "aud": CLIENT_ID,
        "sub": "108204268033311374519",
        "email": email,
        "email_verified": verified,
        "name": "Raymond Penners",
        "given_name": "Raymond",
        "family_name": "Penners",
        "picture": "https://lh5.googleusercontent.com/photo.jpg",
        "iat": now,
        "exp": now + 3600,
    }
    # Received straight from Google's token endpoint over TLS, so allauth does
    # not check the signature (OpenID Connect Core 3.1.3.7); the claims are checked.
    token = {**TOKEN, "id_token": jwt.encode(id_token, UNCHECKED_KEY, algorithm="HS256")}
    return {("POST", "https://oauth2.googleapis.com/token"): token}


def github_answers(email: str = "octocat@github.com", verified: bool = True) -> dict:
    return {
        ("POST", "https://github.com/login/oauth/access_token"): TOKEN,
        ("GET", "https://api.github.com/user"): {
            "type": "User",
            "id": 201022,
            "login": "pennersr",
            "name": "Raymond Penners",
            "email": None,
            "html_url": "https://github.com/pennersr",
        },
        ("GET", "https://api.github.com/user/emails"): [
            {"email": email, "verified": verified, "primary": True, "visibility": "public"}
        ],
    }


def spotify_answers(email: str = "email@example.com") -> dict:
    return {
        ("POST", "https://accounts.spotify.com/api/token"): TOKEN,
        ("GET", "https://api.spotify.com/v1/me"): {
            "display_name": "JM Wizzler",
            "email": email,
            "id": "wizzler",
            "href": "https://api.spotify.com/v1/users/wizzler",
            "type": "user",
            "uri": "spotify:user:wizzler",
        },
    }


# --------------------------------------------------------------------------- first sign-in


@pytest.mark.parametrize(
    ("provider_id", "answers", "email", "provider_verifies_email"),
    [
        ("google", google_answers(), "raymond.penners@example.com", True),
        ("github", github_answers(), "octocat@github.com", True),
        # Spotify does not say whether the address is verified; allauth assumes not.
        ("spotify", spotify_answers(), "email@example.com", False),
    ],
)
def test_first_social_sign_in_creates_a_free_account_with_the_provider_email(
    client, provider_id, answers, email, provider_verifies_email
):
    response, calls = sign_in_with(client, provider_id, answers)

    assert response.status_code == 302
    if provider_verifies_email:
        assert response["Location"] == "/"
        assert mail.outbox == []
    else:
        # An address the provider did not vouch for is confirmed through our own mail first.
        assert response["Location"] == "/accounts/confirm-email/"
        assert signed_in_user(client) is None
        assert len(mail.outbox) == 1
        confirm_address(client, mail.outbox[0])
    user = User.objects.get(email=email)
    assert user.role == Role.FREE
    assert not user.has_usable_password()
    assert signed_in_user(client) == user
    account = SocialAccount.objects.get(provider=provider_id)
    assert account.user == user
    assert calls[0][0] == "POST"  # the code was exchanged for a token first
    assert AuditLog.objects.filter(action="user.signed_up", actor=user).exists()
    assert AuditLog.objects.filter(action="login.succeeded", actor=user).exists()

    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == (email, True, True)
    # The header now shows the new account.
    assert f">{email}</a>" in client.get("/").content.decode()


def test_second_social_sign_in_reuses_the_account(client):
    sign_in_with(client, "github", github_answers())
    client.post("/accounts/logout/")

    response, _ = sign_in_with(client, "github", github_answers())

    assert response.status_code == 302
    assert User.objects.filter(email="octocat@github.com").count() == 1
    assert SocialAccount.objects.count() == 1
    assert signed_in_user(client).email == "octocat@github.com"
    assert AuditLog.objects.filter(action="user.signed_up").count() == 1


# --------------------------------------------------------------------------- existing accounts


def test_verified_provider_email_signs_into_the_existing_account_and_links_it(client):
    """SOCIALACCOUNT_EMAIL_AUTHENTICATION(+_AUTO_CONNECT): same verified email, same account."""
    owner = UserFactory(email="producer@example.com", role=Role.PRO)

    response, _ = sign_in_with(client, "google", google_answers(email="producer@example.com"))

    assert response.status_code == 302
    assert signed_in_user(client) == owner
    assert User.objects.count() == 1
    assert SocialAccount.objects.get(provider="google").user == owner
    owner.refresh_from_db()
    assert owner.role == Role.PRO  # a social sign-in never changes the plan
    assert owner.check_password("correct-horse-battery")


def test_linking_an_account_whose_email_was_never_verified_wipes_its_password(client):
    """allauth's guard against pre-registered ("pre-hijacked") accounts.

    Someone who signed up with another person's address, and knows the
    password, loses access once the address's real owner signs in through
    a provider that vouches for it.
    """
    squatter_made = UserFactory(email="victim@example.com", email_verified=False)

    response, _ = sign_in_with(client, "github", github_answers(email="victim@example.com"))

    squatter_made.refresh_from_db()
    assert not squatter_made.has_usable_password()
    assert SocialAccount.objects.get(provider="github").user == squatter_made
    # The address was never confirmed here, so its owner does that first (mandatory verification).
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user(client) is None
    confirm_address(client, mail.outbox[-1])
    assert signed_in_user(client) == squatter_made


def test_unverified_provider_email_of_an_existing_account_is_answered_as_a_new_one(client):
    """allauth's enumeration prevention covers social sign-up too: the owner is mailed instead."""
    owner = UserFactory(email="email@example.com")

    response, _ = sign_in_with(client, "spotify", spotify_answers(email="email@example.com"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()
    assert User.objects.count() == 1
    owner.refresh_from_db()
    assert owner.check_password("correct-horse-battery")
    assert [m.to for m in mail.outbox] == [["email@example.com"]]
    assert "already exists" in mail.outbox[0].subject.lower()


def test_a_provider_without_an_address_asks_for_one_and_links_the_confirmed_account(client):
    response, _ = sign_in_with(client, "spotify", spotify_answers(email=None))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/3rdparty/signup/"
    page = client.get("/accounts/3rdparty/signup/").content.decode()
    assert "use your Spotify account" in page
    assert 'href="/static/css/base.css"' in page

    created = client.post("/accounts/3rdparty/signup/", {"email": "wizzler@example.com"})
    assert created.status_code == 302
    assert created["Location"] == "/accounts/confirm-email/"
    confirm_address(client, mail.outbox[-1])
    newcomer = signed_in_user(client)
    assert newcomer.email == "wizzler@example.com"
    assert newcomer.role == Role.FREE
    assert SocialAccount.objects.get(provider="spotify").user == newcomer
