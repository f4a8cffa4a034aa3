"""`manage.py ensure_admin` gives `make run` a working admin login."""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from accounts.models import Role, User
from tests.factories import UserFactory


def _ensure_admin(monkeypatch, email="", password=""):
    monkeypatch.setenv("ADMIN_EMAIL", email)
    monkeypatch.setenv("ADMIN_PASSWORD", password)
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_generated_password_is_shown_once_and_opens_the_admin(client, monkeypatch):
    first = _ensure_admin(monkeypatch)
    password = first.split(" / ")[1].split()[0]
    second = _ensure_admin(monkeypatch)

    assert "admin@localhost" in first
    assert password not in second
    assert User.objects.filter(role=Role.ADMIN).count() == 1
    assert client.login(username="admin@localhost", password=password)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_admin_login_comes_from_the_environment(client, monkeypatch):
    output = _ensure_admin(monkeypatch, "boss@studio.example", "s3cret-Enough-1")

    assert "s3cret" not in output
    user = User.objects.get(email="boss@studio.example")
    assert user.is_staff and user.is_superuser and user.role == Role.ADMIN
    assert client.login(username="BOSS@studio.example", password="s3cret-Enough-1")


@pytest.mark.django_db
def test_existing_admin_gets_the_configured_password(monkeypatch):
    _ensure_admin(monkeypatch, "boss@studio.example", "first-Password-1")
    _ensure_admin(monkeypatch, "boss@studio.example", "second-Password-2")

    assert User.objects.get(email="boss@studio.example").check_password("second-Password-2")


@pytest.mark.django_db
def test_emails_are_unique_whatever_their_case():
    UserFactory(email="Kick@Drums.example")

    with pytest.raises(IntegrityError, match="accounts_user_email_ci_unique"):
        UserFactory(email="kick@drums.example")


@pytest.mark.django_db
def test_non_admin_roles_cannot_open_the_admin(client):
    user = UserFactory(role=Role.STUDIO)
    client.force_login(user)

    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("existing", [False, True])
def test_the_admin_signs_in_at_once_with_mandatory_email_verification(
    client, monkeypatch, settings, existing
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    if existing:
        UserFactory(email="boss@studio.example", email_verified=False)
    _ensure_admin(monkeypatch, "boss@studio.example", "s3cret-Enough-1")

    api = client.post(
        "/api/v1/auth/login",
        {"email": "boss@studio.example", "password": "s3cret-Enough-1"},
        content_type="application/json",
    )
    page = client.post(
        "/accounts/login/", {"login": "boss@studio.example", "password": "s3cret-Enough-1"}
    )

    assert api.status_code == 200, api.json()
    assert page.status_code == 302 and page["Location"] == "/"
