"""One sign-in lock for the API, the sign-in page and the admin: five wrong passwords a minute.

The sixth try within that minute gets 429 with Retry-After, even with the
right password, and the lock lasts exactly the rest of the minute that began
with the first failure. The clock is moved forward instead of waiting.
"""

import time

import pytest
from django.test import Client

from accounts import lockout
from accounts.models import AuditLog
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"
EMAIL = "target@example.com"

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """Move the lock's clock: ``clock.advance(seconds)``."""

    class Clock:
        offset = 0.0

        def advance(self, seconds: float) -> None:
            self.offset += seconds

    fake = Clock()
    real = time.time
    monkeypatch.setattr(lockout.time, "time", lambda: real() + fake.offset)
    return fake


def api_login(client: Client, password: str):
    return client.post(
        "/api/v1/auth/login",
        {"email": EMAIL, "password": password},
        content_type="application/json",
    )


def page_login(client: Client, password: str):
    return client.post("/accounts/login/", {"login": EMAIL, "password": password})


def test_sixth_wrong_password_on_the_page_is_429_with_retry_after_and_audited(client):
    UserFactory(email=EMAIL)

    statuses = [page_login(client, f"guess{n}").status_code for n in range(5)]
    sixth = page_login(client, "guess5")
    right = page_login(client, PASSWORD)

    assert statuses == [200] * 5
    assert sixth.status_code == 429
    assert 1 <= int(sixth["Retry-After"]) <= 60
    assert "Try again in" in sixth.content.decode()
    assert 'href="/static/css/base.css"' in sixth.content.decode()  # the site's layout
    assert right.status_code == 429
    assert AuditLog.objects.filter(action="login.failed", actor_email=EMAIL).count() == 5
    assert AuditLog.objects.filter(action="login.throttled", actor_email=EMAIL).count() == 2
    assert "_auth_user_id" not in client.session


def test_the_page_and_the_api_count_the_same_failures(client):
    UserFactory(email=EMAIL)

    for n in range(3):
        assert page_login(client, f"guess{n}").status_code == 200
    for n in range(2):
        assert api_login(client, f"guess{n}").status_code == 401

    assert api_login(client, PASSWORD).status_code == 429
    assert page_login(client, PASSWORD).status_code == 429


@pytest.mark.parametrize("sign_in", [api_login, page_login], ids=["api", "page"])
def test_the_lock_lasts_the_rest_of_the_minute_then_the_right_password_works(
    client, clock, sign_in
):
    UserFactory(email=EMAIL)
    sign_in(client, "guess0")
    clock.advance(20)
    for n in range(1, 5):
        sign_in(client, f"guess{n}")

    clock.advance(39)  # 59 s after the first failure
    still_locked = sign_in(client, PASSWORD)
    clock.advance(2)  # 61 s after it: that failure has left the minute
    unlocked = sign_in(client, PASSWORD)

    assert still_locked.status_code == 429
    assert int(still_locked["Retry-After"]) == 1
    assert unlocked.status_code == (200 if sign_in is api_login else 302)


def test_another_account_from_the_same_address_is_not_locked(client):
    UserFactory(email=EMAIL)
    UserFactory(email="bystander@example.com")
    for n in range(5):
        page_login(client, f"guess{n}")

    response = client.post(
        "/accounts/login/", {"login": "bystander@example.com", "password": PASSWORD}
    )

    assert response.status_code == 302


def admin_login(client: Client, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": EMAIL, "password": password})


def test_the_admin_sign_in_page_shares_the_lock(client):
    UserFactory(email=EMAIL, is_staff=True, is_superuser=True)

    statuses = [admin_login(client, f"guess{n}").status_code for n in range(3)]
    for n in range(2):
        assert api_login(client, f"guess{n}").status_code == 401
    locked = admin_login(client, PASSWORD)

    assert statuses == [200] * 3  # the form again, with its error
    assert locked.status_code == 429
    assert 1 <= int(locked["Retry-After"]) <= 60
    assert "_auth_user_id" not in client.session
    assert AuditLog.objects.filter(action="login.throttled", actor_email=EMAIL).count() == 1


def test_no_caller_of_authenticate_can_try_a_locked_accounts_password(rf, clock):
    from django.contrib.auth import authenticate

    user = UserFactory(email=EMAIL)
    for n in range(5):
        assert authenticate(rf.post("/"), username=EMAIL, password=f"guess{n}") is None

    assert authenticate(rf.post("/"), username=EMAIL, password=PASSWORD) is None
    assert authenticate(rf.post("/"), email=EMAIL, password=PASSWORD) is None
    clock.advance(61)
    assert authenticate(rf.post("/"), username=EMAIL, password=PASSWORD) == user


def test_the_thirty_first_api_sign_in_a_minute_from_one_address_is_429_whoever_it_names(
    client, settings
):
    # Each try names another address, so no account lock is involved: only the per-IP limit
    # (the API's anonymous limit, also 30 a minute, is raised so that it does not answer first).
    settings.ANONYMOUS_REQUESTS_PER_MINUTE = 100
    statuses = [
        client.post(
            "/api/v1/auth/login",
            {"email": f"guess{n}@example.com", "password": "nope"},
            content_type="application/json",
        )
        for n in range(31)
    ]

    assert [r.status_code for r in statuses] == [401] * 30 + [429]
    refused = statuses[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["message"].startswith(
        "Too many sign-in attempts; wait a minute and try again."
    )
    assert AuditLog.objects.filter(action="login.throttled", actor_email="guess30@example.com")
