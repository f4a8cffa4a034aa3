"""The audit log: append-only, written for security events, read-only in the admin."""

import pytest

from accounts.models import ApiKey, AuditLog, Role, User
from accounts.services import api_key_create, user_role_set
from tests.factories import CollectionFactory, UserFactory, bearer


@pytest.fixture
def admin_client(client):
    admin = UserFactory(role=Role.ADMIN, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


def _inline_rows(page) -> dict:
    """The inline rows (the account's email addresses) as a browser posts them, unchanged."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for form in inline.formset.forms:
            for name in form.fields:
                # The row's own id is not in ``initial`` (not editable) but is posted hidden.
                is_pk = name == form.instance._meta.pk.name
                value = form.instance.pk if is_pk else form.initial.get(name)
                if value is True:
                    data[form.add_prefix(name)] = "on"
                elif value not in (None, False):
                    data[form.add_prefix(name)] = value
    return data


@pytest.mark.django_db
def test_entries_cannot_be_changed_or_deleted():
    entry = AuditLog.objects.create(action="test.event", actor_email="a@example.com")

    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditLog.objects.all().update(action="forged")
    with pytest.raises(TypeError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get().action == "test.event"


@pytest.mark.django_db
def test_role_change_in_the_admin_is_audited(admin_client):
    user = UserFactory(role=Role.FREE)
    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "email": user.email,
            "role": "pro",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00",
        }
    )
    data.pop("groups", None)
    data.pop("user_permissions", None)
    data.pop("last_login", None)
    data.update(_inline_rows(page))

    response = admin_client.post(f"/admin/accounts/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.role == Role.PRO
    entry = AuditLog.objects.get(action="user.role_changed")
    assert entry.actor == admin_client.admin
    assert entry.details == {"from": "free", "to": "pro"}
    assert entry.target_id == str(user.pk)


@pytest.mark.django_db
def test_promoting_to_admin_grants_the_admin_site_and_demoting_removes_it(client):
    user = UserFactory(role=Role.STUDIO)

    user_role_set(user=user, role=Role.ADMIN, actor=None)
    client.force_login(user)
    assert client.get("/admin/").status_code == 200

    user_role_set(user=user, role=Role.PRO, actor=None)
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_deleting_a_user_in_the_admin_is_audited(admin_client):
    user = UserFactory(email="leaving@example.com")

    response = admin_client.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    entry = AuditLog.objects.get(action="user.deleted")
    assert entry.details["email"] == "leaving@example.com"
    assert entry.actor == admin_client.admin


@pytest.mark.django_db
def test_audit_log_admin_lists_and_filters_but_cannot_edit(admin_client):
    AuditLog.objects.create(action="login.failed", actor_email="who@example.com")

    listing = admin_client.get("/admin/accounts/auditlog/?action=login.failed&q=who")
    entry = AuditLog.objects.get(action="login.failed")
    change = admin_client.post(f"/admin/accounts/auditlog/{entry.pk}/change/", {"action": "x"})
    delete = admin_client.post(f"/admin/accounts/auditlog/{entry.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert "who@example.com" in listing.content.decode()
    assert change.status_code == 403
    assert delete.status_code == 403
    assert AuditLog.objects.get(pk=entry.pk).action == "login.failed"


def _change_form_data(admin_client, user, **changes) -> dict:
    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    for name in ("groups", "user_permissions", "last_login"):
        data.pop(name, None)
    for flag in ("is_active", "is_superuser"):
        if data.get(flag) is False:
            data.pop(flag)  # an unticked box is absent from a browser's form post
    data.update({"email": user.email, "date_joined_0": "2026-01-01", "date_joined_1": "10:00"})
    data.update(_inline_rows(page))
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@pytest.mark.django_db
def test_switching_an_account_off_and_granting_superuser_in_the_admin_are_audited(admin_client):
    user = UserFactory(email="switched@example.com")
    url = f"/admin/accounts/user/{user.pk}/change/"

    off = admin_client.post(url, _change_form_data(admin_client, user, is_active=False))
    user.refresh_from_db()
    was_active = user.is_active
    promoted = admin_client.post(url, _change_form_data(admin_client, user, is_superuser="on"))
    user.refresh_from_db()

    assert off.status_code == 302 and promoted.status_code == 302
    assert was_active is False
    assert user.is_superuser is True
    actions = list(
        AuditLog.objects.filter(target_id=str(user.pk))
        .order_by("id")
        .values_list("action", "actor")
    )
    assert actions == [
        ("user.deactivated", admin_client.admin.pk),
        ("user.superuser_granted", admin_client.admin.pk),
    ]


@pytest.mark.django_db
def test_setting_a_password_in_the_admin_is_audited_without_the_password(admin_client):
    user = UserFactory(email="forgetful@example.com")
    new = "a-new-Sampler-passphrase-42"

    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    entry = AuditLog.objects.get(action="password.set_by_admin")
    assert entry.actor == admin_client.admin
    assert entry.target_id == str(user.pk)
    assert new not in str(entry.details)


@pytest.mark.django_db
def test_api_keys_can_be_revoked_in_the_admin_but_never_deleted(admin_client):
    key, _ = api_key_create(owner=UserFactory(role=Role.PRO), name="keep me")

    listing = admin_client.get("/admin/accounts/apikey/")
    delete = admin_client.post(f"/admin/accounts/apikey/{key.pk}/delete/", {"post": "yes"})
    bulk = admin_client.post(
        "/admin/accounts/apikey/",
        {"action": "delete_selected", "_selected_action": [key.pk], "post": "yes"},
    )

    assert "delete_selected" not in listing.content.decode()
    assert 'value="revoke"' in listing.content.decode()
    assert delete.status_code == 403
    assert bulk.status_code in (200, 302)
    assert ApiKey.objects.filter(pk=key.pk).exists()


@pytest.mark.django_db
def test_deleting_a_collection_is_audited(client):
    owner = UserFactory()
    collection = CollectionFactory(owner=owner, name="Old drums")

    response = client.delete(
        f"/api/v1/collections/{collection.pk}", REMOTE_ADDR="198.51.100.4", **bearer(owner)
    )

    assert response.status_code == 204
    entry = AuditLog.objects.get(action="collection.deleted")
    assert entry.actor == owner
    assert entry.details == {"collection_id": collection.pk, "name": "Old drums"}
    assert entry.ip_address == "198.51.100.4"
