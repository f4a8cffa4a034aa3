"""Register, sign in with JWT, refresh with rotation, sign out, and edit the profile."""

import pytest
from django.test import override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import AuditLog, Role, User
from accounts.services import user_delete
from tests.factories import UserFactory, bearer
from tests.mailbox import confirm_address

PASSWORD = "correct-horse-battery"


@pytest.fixture
def api(client):
    def call(method: str, path: str, data=None, **headers):
        return getattr(client, method)(
            f"/api/v1/{path}", data=data, content_type="application/json", **headers
        )

    return call


@pytest.mark.django_db
def test_register_creates_a_free_account_that_signs_in_once_its_address_is_confirmed(
    api, client, mailoutbox
):
    """Mandatory verification (the default): no tokens until the mailed link is followed."""
    registered = api(
        "post", "auth/register", {"email": "New@Producer.example", "password": PASSWORD}
    )
    before = api("post", "auth/login", {"email": "New@Producer.example", "password": PASSWORD})

    assert registered.status_code == 201, registered.json()
    # The address as typed, and nothing about the account.
    assert registered.json() == {"email": "New@Producer.example", "email_verification": "sent"}
    assert AuditLog.objects.filter(action="user.signed_up", actor_email="New@producer.example")
    assert before.status_code == 403
    assert before.json()["error"]["code"] == "email_unverified"
    assert "Confirm your email" in before.json()["error"]["message"]
    assert "access" not in before.json()

    assert [m.to for m in mailoutbox] == [["New@producer.example"]]  # domain lower-cased
    confirm_address(client, mailoutbox[0])
    after = api("post", "auth/login", {"email": "New@Producer.example", "password": PASSWORD})

    assert after.status_code == 200
    me = api("get", "auth/me", HTTP_AUTHORIZATION=f"Bearer {after.json()['access']}").json()
    assert me["email"] == "New@producer.example"
    assert me["role"] == "free"
    assert "audio:upload" in me["permissions"]
    assert me["quotas"]["uploads_per_day"] == 10


@pytest.mark.django_db
def test_register_answers_a_taken_address_exactly_as_a_new_one_and_mails_its_owner(api, mailoutbox):
    """allauth's enumeration prevention, shared with the sign-up page."""
    owner = UserFactory(email="taken@example.com")

    new = api("post", "auth/register", {"email": "fresh@example.com", "password": PASSWORD})
    taken = api(
        "post", "auth/register", {"email": "TAKEN@example.com", "password": "x-" + PASSWORD}
    )

    assert (new.status_code, taken.status_code) == (201, 201)
    assert new.json() == {"email": "fresh@example.com", "email_verification": "sent"}
    assert taken.json() == {"email": "TAKEN@example.com", "email_verification": "sent"}
    assert new["Content-Type"] == taken["Content-Type"]
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert not AuditLog.objects.filter(action="user.signed_up", actor=owner).exists()
    # Each address's owner hears of it: a confirmation link, or "someone tried to sign up".
    assert [m.to for m in mailoutbox] == [["fresh@example.com"], ["taken@example.com"]]
    assert "/accounts/confirm-email/" in mailoutbox[0].body
    assert "already exists" in mailoutbox[1].subject.lower()
    assert "/accounts/password/reset/" in mailoutbox[1].body
    assert "/accounts/login/" in mailoutbox[1].body
    # A weak password is refused alike, whoever owns the address.
    weak = [
        api("post", "auth/register", {"email": email, "password": "123"})
        for email in ("taken@example.com", "another@example.com")
    ]
    assert [r.status_code for r in weak] == [400, 400]
    assert weak[0].json() == weak[1].json()
    assert "password" in weak[0].json()["error"]["message"].lower()
    assert not User.objects.filter(email="another@example.com").exists()


@pytest.mark.django_db
@override_settings(ACCOUNT_EMAIL_VERIFICATION="optional")
def test_with_optional_verification_register_signs_in_at_once_and_refuses_a_taken_address(api):
    """The operator's trade: instant sign-in, but a taken address shows (allauth cannot hide it)."""
    UserFactory(email="taken@example.com")

    response = api("post", "auth/register", {"email": "new@producer.example", "password": PASSWORD})
    taken = api("post", "auth/register", {"email": "TAKEN@example.com", "password": PASSWORD})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user"]["role"] == "free"
    me = api("get", "auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["email"] == "new@producer.example"
    assert taken.status_code == 400
    assert taken.json()["error"]["details"]["email"] == [
        "An account with this email address already exists."
    ]


@pytest.mark.django_db
def test_register_strips_markup_from_the_display_name(api):
    response = api(
        "post",
        "auth/register",
        {
            "email": "dj@example.com",
            "password": PASSWORD,
            "display_name": "<script>x()</script>DJ <b>Bass</b>",
        },
    )

    assert response.status_code == 201
    assert User.objects.get(email="dj@example.com").display_name == "DJ Bass"


@pytest.mark.django_db
def test_login_returns_a_jwt_pair_that_authenticates(api):
    user = UserFactory(email="beat@maker.example")

    response = api("post", "auth/login", {"email": "BEAT@maker.example", "password": PASSWORD})

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    me = api("get", "auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.json()["id"] == user.pk
    assert AuditLog.objects.filter(action="login.succeeded", actor=user).exists()


@pytest.mark.django_db
def test_wrong_password_is_401_in_the_shared_error_shape(api):
    UserFactory(email="beat@maker.example")

    response = api("post", "auth/login", {"email": "beat@maker.example", "password": "nope"})

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "Wrong email or password.",
        "details": {},
    }


@pytest.mark.django_db
def test_sixth_wrong_password_within_a_minute_is_429_and_audited(api):
    user = UserFactory(email="target@example.com")

    statuses = [
        api(
            "post", "auth/login", {"email": "target@example.com", "password": f"guess{n}"}
        ).status_code
        for n in range(6)
    ]
    # Even the right password waits until the minute is over.
    right = api("post", "auth/login", {"email": "target@example.com", "password": PASSWORD})

    assert statuses == [401] * 5 + [429]
    assert right.status_code == 429
    assert 1 <= int(right["Retry-After"]) <= 60
    assert right.json()["error"]["code"] == "throttled"
    failed = AuditLog.objects.filter(action="login.failed", actor_email="target@example.com")
    assert failed.count() == 5
    assert (
        AuditLog.objects.filter(action="login.throttled", actor_email="target@example.com").count()
        == 2
    )
    assert all(entry.ip_address == "127.0.0.1" for entry in failed)
    assert not AuditLog.objects.filter(action="login.succeeded", actor=user).exists()


@pytest.mark.django_db
def test_refresh_rotates_and_the_old_refresh_token_stops_working(api):
    UserFactory(email="r@example.com")
    first = api("post", "auth/login", {"email": "r@example.com", "password": PASSWORD}).json()

    rotated = api("post", "auth/refresh", {"refresh": first["refresh"]})
    replay = api("post", "auth/refresh", {"refresh": first["refresh"]})

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "authentication_failed"


@pytest.mark.django_db
def test_logout_blacklists_the_refresh_token(api):
    UserFactory(email="out@example.com")
    tokens = api("post", "auth/login", {"email": "out@example.com", "password": PASSWORD}).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}

    logout = api("post", "auth/logout", {"refresh": tokens["refresh"]}, **auth)
    refresh = api("post", "auth/refresh", {"refresh": tokens["refresh"]})

    assert logout.status_code == 204
    assert refresh.status_code == 401


@pytest.mark.django_db
def test_logout_cannot_blacklist_another_users_token(api):
    victim = UserFactory()
    victim_refresh = api(
        "post", "auth/login", {"email": victim.email, "password": PASSWORD}
    ).json()["refresh"]
    attacker = UserFactory()

    response = api("post", "auth/logout", {"refresh": victim_refresh}, **bearer(attacker))

    assert response.status_code == 403
    assert api("post", "auth/refresh", {"refresh": victim_refresh}).status_code == 200


@pytest.mark.django_db
def test_me_patch_changes_the_display_name_but_never_the_role(api):
    user = UserFactory(role=Role.FREE)

    response = api(
        "patch", "auth/me", {"display_name": "Night <i>Owl</i>", "role": "admin"}, **bearer(user)
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.display_name == "Night Owl"
    assert user.role == Role.FREE


@pytest.mark.django_db
def test_sql_looking_login_is_a_validation_error_not_a_crash(api):
    response = api("post", "auth/login", {"email": "' OR 1=1 --", "password": "x' OR '1'='1"})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["email"]


@pytest.mark.django_db
def test_a_disabled_account_cannot_sign_in(api):
    UserFactory(email="gone@example.com", is_active=False)

    response = api("post", "auth/login", {"email": "gone@example.com", "password": PASSWORD})

    assert response.status_code == 401


@pytest.mark.django_db
def test_register_sends_the_same_confirmation_mail_as_the_sign_up_page(api, mailoutbox):
    from allauth.account.models import EmailAddress

    api("post", "auth/register", {"email": "mail@example.com", "password": PASSWORD})

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["mail@example.com"]
    assert "/accounts/confirm-email/" in mailoutbox[0].body
    address = EmailAddress.objects.get(email="mail@example.com")
    assert address.primary and not address.verified


@pytest.mark.django_db
def test_an_unconfirmed_account_with_a_wrong_password_is_401_not_a_hint(api):
    UserFactory(email="quiet@example.com", email_verified=False)

    response = api("post", "auth/login", {"email": "quiet@example.com", "password": "nope"})

    assert response.status_code == 401


@pytest.mark.django_db
def test_refresh_for_a_deleted_account_is_401_in_the_error_shape(api):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    user_delete(user=user, actor=None)

    response = api("post", "auth/refresh", {"refresh": refresh})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"
    assert "access" not in response.json()


@pytest.mark.django_db
def test_refresh_for_a_disabled_account_is_401(api):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api("post", "auth/refresh", {"refresh": refresh})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"
