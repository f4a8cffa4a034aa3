"""The account pages (allauth, in SampleMind's layout): sign-up, sign-in, passwords, limits.

Every test drives the pages the way a browser does, against the real database
and the real Redis cache, and reads the mails from Django's test outbox.
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import AuditLog, Role, User
from tests.factories import UserFactory
from tests.mailbox import confirm_address, link_in

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-new-Sampler-passphrase-42"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Hashing speed is not under test; the default PBKDF2 rounds would dominate the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"login": email, "password": password})


def signed_in_email(client: Client) -> str | None:
    """The address the site header shows as signed in, or None when signed out."""
    page = client.get("/").content.decode()
    match = re.search(r'class="site-nav__user"[^>]*>([^<]*)</a>', page)
    return match.group(1) if match else None


# --------------------------------------------------------------------------- layout


def test_account_pages_share_the_site_layout_and_label_every_field(client):
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        response = client.get(path)

        assert response.status_code == 200
        page = response.content.decode()
        assert 'href="/static/css/base.css"' in page, path
        assert re.search(r'<a class="brand" href="/">.*SampleMind</a>', page), path
        assert "· SampleMind</title>" in page, path
        # No inline code or styles: the CSP allows only our own files.
        assert "<script" not in page, path
        assert "style=" not in page, path
        # Every visible input has a <label for=...> that points at it.
        input_ids = re.findall(r'<input (?![^>]*type="hidden")[^>]*id="([^"]+)"', page)
        assert "id_email" in input_ids or "id_login" in input_ids, path
        for input_id in input_ids:
            assert f'<label for="{input_id}"' in page, (path, input_id)


def test_header_offers_sign_in_and_sign_up_to_visitors(client):
    page = client.get("/").content.decode()

    assert 'href="/accounts/login/">Sign in</a>' in page
    assert 'href="/accounts/signup/">Sign up</a>' in page
    assert "Sign out" not in page


def test_header_shows_the_email_and_a_sign_out_form_when_signed_in(client):
    user = UserFactory()
    client.force_login(user)

    page = client.get("/").content.decode()

    assert signed_in_email(client) == user.email
    assert 'action="/accounts/logout/"' in page
    logout_form = page[page.index('action="/accounts/logout/"') :]
    assert 'name="csrfmiddlewaretoken"' in logout_form.split("</form>")[0]
    assert "Sign in</a>" not in page


def test_sign_out_button_signs_the_user_out(client):
    client.force_login(UserFactory())

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_email(client) is None


def test_account_settings_pages_use_the_layout_with_a_section_menu(client):
    client.force_login(UserFactory())

    for path, current in (
        ("/accounts/email/", "Email addresses"),
        ("/accounts/password/change/", "Password"),
        ("/accounts/3rdparty/", "Connected accounts"),
    ):
        page = client.get(path).content.decode()

        assert '<nav class="manage__nav" aria-label="Account settings">' in page, path
        assert f'aria-current="page">{current}</a>' in page, path
        assert 'href="/static/css/base.css"' in page, path


# --------------------------------------------------------------------------- sign-up


def test_sign_up_creates_a_free_account_that_signs_in_once_the_mailed_link_is_confirmed(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "New.Producer@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email__iexact="new.producer@example.com")
    assert user.role == Role.FREE
    assert user.check_password(PASSWORD)
    # Mandatory verification (the default): not signed in before the address is confirmed.
    assert signed_in_email(client) is None
    entry = AuditLog.objects.get(action="user.signed_up")
    assert entry.actor == user
    assert entry.ip_address == "127.0.0.1"

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    address = EmailAddress.objects.get(user=user)
    assert not address.verified

    # Following the link and confirming verifies the address and signs in.
    confirm_address(client, mail.outbox[0])
    address.refresh_from_db()
    assert address.verified
    assert signed_in_email(client) == user.email


def test_sign_up_with_mismatched_passwords_shows_an_error_and_creates_nothing(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "typo@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )

    assert response.status_code == 200
    assert "You must type the same password each time" in response.content.decode()
    assert not User.objects.filter(email="typo@example.com").exists()
    assert mail.outbox == []


def test_sign_up_answers_a_taken_address_exactly_as_a_new_one_and_mails_its_owner():
    """allauth's enumeration prevention (ACCOUNT_PREVENT_ENUMERATION, mandatory verification)."""
    owner = UserFactory(email="taken@example.com")

    def sign_up(email: str) -> tuple:
        browser = Client()
        response = browser.post(
            "/accounts/signup/",
            {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            follow=True,
        )
        # Each visitor's CSRF token differs, whatever the address.
        page = re.sub(r"\b[A-Za-z0-9]{64}\b", "<csrf token>", response.content.decode())
        return response.status_code, response.redirect_chain, page, signed_in_email(browser)

    taken = sign_up("Taken@example.com")
    fresh = sign_up("fresh@example.com")

    assert taken == fresh
    assert fresh[:2] == (200, [("/accounts/confirm-email/", 302)])
    assert "We have sent an email to you for verification" in fresh[2]
    assert fresh[3] is None
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert not AuditLog.objects.filter(action="user.signed_up", actor=owner).exists()
    # The owner hears that someone tried, with a way in; the new address gets its link.
    assert [m.to for m in mail.outbox] == [["taken@example.com"], ["fresh@example.com"]]
    assert "already exists" in mail.outbox[0].subject.lower()
    assert "tried to sign up" in mail.outbox[0].body
    assert "://testserver/accounts/login/" in mail.outbox[0].body
    assert "://testserver/accounts/password/reset/" in mail.outbox[0].body
    assert "/accounts/confirm-email/" in mail.outbox[1].body


def test_html_typed_into_the_sign_up_form_is_shown_escaped(client):
    hostile = '"<script>alert(1)</script>"@example.com'

    rejected = client.post(
        "/accounts/signup/",
        {"email": hostile, "password1": PASSWORD, "password2": "mismatch"},
    )
    page = rejected.content.decode()
    assert rejected.status_code == 200
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    # Quoted local parts are valid addresses, so such an account can exist;
    # its address must still never reach the page as markup.
    accepted = client.post(
        "/accounts/signup/", {"email": hostile, "password1": PASSWORD, "password2": PASSWORD}
    )
    assert accepted.status_code == 302
    assert User.objects.filter(email__startswith='"<script>').exists()
    confirm_address(client, mail.outbox[-1])
    for path in ("/", "/accounts/email/"):
        page = client.get(path).content.decode()
        assert "<script>alert(1)</script>" not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


# --------------------------------------------------------------------------- sign-in


def test_sign_in_with_the_right_password_signs_in_and_audits_it(client):
    user = UserFactory(email="beatmaker@example.com")

    response = sign_in(client, "BeatMaker@example.com", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_email(client) == "beatmaker@example.com"
    entry = AuditLog.objects.get(action="login.succeeded")
    assert entry.actor == user
    assert not AuditLog.objects.filter(action="login.failed").exists()


def test_sign_in_with_a_wrong_password_is_refused_and_audited_with_the_email(client):
    UserFactory(email="beatmaker@example.com")

    response = sign_in(client, "beatmaker@example.com", "not-my-password")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert signed_in_email(client) is None
    entry = AuditLog.objects.get(action="login.failed")
    assert entry.actor is None
    assert entry.actor_email == "beatmaker@example.com"
    assert "not-my-password" not in str(entry.details)
    assert not AuditLog.objects.filter(action="login.succeeded").exists()


def test_too_many_sign_in_posts_from_one_address_get_the_429_page(client):
    """ACCOUNT_RATE_LIMITS "login": 30 sign-in POSTs a minute per IP, as the API allows.

    Wrong passwords for one account lock sooner (tests/test_login_lock.py), so
    the tries here go to many accounts.
    """
    emails = [UserFactory().email for _ in range(8)]

    statuses = [sign_in(client, emails[n % 8], "guess").status_code for n in range(31)]
    page = sign_in(client, emails[0], PASSWORD)

    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    assert "Too many attempts" in page.content.decode()
    assert 'href="/static/css/base.css"' in page.content.decode()


def test_sign_in_post_without_a_csrf_token_is_refused(client):
    UserFactory(email="beatmaker@example.com")
    browser = Client(enforce_csrf_checks=True)

    forged = browser.post(
        "/accounts/login/", {"login": "beatmaker@example.com", "password": PASSWORD}
    )

    assert forged.status_code == 403
    assert not AuditLog.objects.filter(action="login.succeeded").exists()
    assert signed_in_email(browser) is None

    # The same browser, with the token the page gave it, gets in.
    browser.get("/accounts/login/")
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/accounts/login/",
        {"login": "beatmaker@example.com", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert signed_in_email(browser) == "beatmaker@example.com"


# --------------------------------------------------------------------------- passwords


def test_password_reset_mail_link_lets_the_user_choose_a_new_password(client):
    user = UserFactory(email="forgetful@example.com")

    response = client.post("/accounts/password/reset/", {"email": "forgetful@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["forgetful@example.com"]
    reset_path = link_in(mail.outbox[0])
    assert reset_path.startswith("/accounts/password/reset/key/")

    # The link moves the key into the session and redirects to a key-less URL.
    form_page = client.get(reset_path, follow=True)
    assert form_page.status_code == 200
    assert 'name="password1"' in form_page.content.decode()
    form_path = form_page.redirect_chain[-1][0]
    done = client.post(form_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditLog.objects.filter(action="password.reset", actor=user).exists()
    fresh = Client()
    assert sign_in(fresh, "forgetful@example.com", PASSWORD).status_code == 200
    assert sign_in(fresh, "forgetful@example.com", NEW_PASSWORD).status_code == 302
    # The link works once.
    reused = client.get(reset_path, follow=True).content.decode()
    assert 'name="password1"' not in reused
    assert "Bad Token" in reused


def test_password_reset_for_an_unknown_email_sends_no_reset_link(client):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})

    # Same answer as for a real account, so the page does not reveal who has one.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert all("/accounts/password/reset/key/" not in m.body for m in mail.outbox)


def test_password_change_page_changes_the_password_and_audits_it(client):
    user = UserFactory(email="changer@example.com")
    client.force_login(user)

    wrong = client.post(
        "/accounts/password/change/",
        {"oldpassword": "not-it", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200
    assert "Please type your current password." in wrong.content.decode()

    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuditLog.objects.filter(action="password.changed", actor=user).count() == 1
    # Still signed in on this browser after the change.
    assert signed_in_email(client) == "changer@example.com"
    fresh = Client()
    assert sign_in(fresh, "changer@example.com", NEW_PASSWORD).status_code == 302


def test_password_change_page_requires_sign_in(client):
    response = client.get("/accounts/password/change/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
