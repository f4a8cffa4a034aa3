"""The admin for people who run SampleMind: a sample's player and readable values, users'
samples and storage, a bulk role change, and one accounts block on the index."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from accounts.models import AuditLog, User
from tests.factories import SampleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    admin = UserFactory(role="admin", is_superuser=True, is_staff=True)
    client.force_login(admin)
    return admin


def test_a_samples_page_plays_it_and_shows_rounded_values(client, staff):
    sample = SampleFactory(
        duration=11.843219,
        bpm=121.98765,
        bpm_confidence=0.876543,
        loudness_lufs=-14.04321,
        descriptors={"spectral_centroid": 1234.567891234, "bands": [0.123456789]},
    )
    sample.preview.save("p.ogg", ContentFile(b"OggS preview bytes"), save=True)
    content = client.get(f"/admin/library/sample/{sample.pk}/change/").content.decode()
    listen = f"/admin/library/sample/{sample.pk}/listen/"
    assert f'<audio controls preload="none" src="{listen}">' in content
    assert "11.84 s" in content and "11.843219" not in content
    assert "122.0 BPM (0.88)" in content
    assert "-14.0 LUFS" in content
    assert '<pre class="descriptors-json">' in content
    assert "&quot;spectral_centroid&quot;: 1234.5679" in content
    # The player's source: the preview, byte ranges included, for staff only.
    assert client.get(listen, HTTP_RANGE="bytes=0-3").status_code == 206
    client.force_login(UserFactory())
    assert client.get(listen).status_code == 302  # to the admin's sign-in


def test_the_user_list_shows_samples_and_storage(client, staff):
    owner = UserFactory(email="heavy@example.com")
    SampleFactory.create_batch(3, owner=owner, size_bytes=2 * 1024 * 1024)
    content = client.get("/admin/accounts/user/?q=heavy").content.decode()
    assert '<td class="field-sample_count">3</td>' in content
    assert '<td class="field-storage">6.0\xa0MB</td>' in content


def test_roles_change_in_bulk_and_are_audited(client, staff):
    users = UserFactory.create_batch(2, role="free")
    response = client.post(
        "/admin/accounts/user/",
        {"action": "set_role_pro", "_selected_action": [u.pk for u in users]},
        follow=True,
    )
    assert "2 user(s) moved to" in response.content.decode()
    roles = User.objects.filter(pk__in=[u.pk for u in users]).values_list("role", flat=True)
    assert set(roles) == {"pro"}
    assert AuditLog.objects.filter(action__startswith="user.role").count() >= 2


def test_the_index_has_one_accounts_block(client, staff):
    content = client.get("/admin/").content.decode()
    assert content.count(">Accounts</a>") == 1
    assert "Email addresses" not in content
    # Addresses live on each user's page.
    page = client.get(f"/admin/accounts/user/{staff.pk}/change/").content.decode()
    assert "emailaddress_set" in page or "Email addresses" in page
