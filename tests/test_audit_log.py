"""The audit log: append-only, written for security events, read-only in the admin."""

import pytest

from accounts.models import AuditLog, Role, User
from accounts.services import user_role_set
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client):
    admin = UserFactory(role=Role.ADMIN, is_superuser=True)
    client.force_login(admin)
    client.admin = admin
    return client


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
