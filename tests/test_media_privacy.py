"""Media and backups have no public URL, with DEBUG on or off; files leave through checked views."""

from __future__ import annotations

import importlib

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import clear_url_caches

from accounts.models import Role
from samplemind import urls
from samplemind.ops import backups
from tests.factories import SampleFactory, UserFactory, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def urlconf_as_built(request):
    """The URL configuration as a process started with DEBUG on or off builds it."""
    with override_settings(DEBUG=request.param):
        importlib.reload(urls)
        clear_url_caches()
        yield request.param
    importlib.reload(urls)
    clear_url_caches()


@pytest.fixture
def private_sample():
    owner = UserFactory(role=Role.PRO)
    return SampleFactory(
        owner=owner,
        visibility="private",
        file=ContentFile(b"RIFF private original", name="kick.wav"),
    )


@pytest.fixture
def backup_file():
    name = "20260101-000000-0123abcd"
    backups.backup_storage().save(f"backups/{name}.dump", ContentFile(b"PGDMP password hashes"))
    return name


def test_guessed_media_and_backup_urls_are_404_for_everyone(
    client, urlconf_as_built, private_sample, backup_file
):
    guesses = [
        f"/media/{private_sample.file.name}",
        f"/media/backups/{backup_file}.dump",
        f"/backups/{backup_file}.dump",
        f"/static/../media/{private_sample.file.name}",
    ]
    stranger = UserFactory(role=Role.PRO)

    anonymous = {url: client.get(url).status_code for url in guesses}
    client.force_login(stranger)
    other_user = {url: client.get(url).status_code for url in guesses}
    client.force_login(private_sample.owner)
    owner = {url: client.get(url).status_code for url in guesses}

    assert set(anonymous.values()) == {404}, anonymous
    assert set(other_user.values()) == {404}, other_user
    assert set(owner.values()) == {404}, owner  # even the owner: only the views hand files out


def test_backups_live_outside_the_media_folder(settings, backup_file):
    stored = backups.backup_storage().path(f"backups/{backup_file}.dump")

    assert not stored.startswith(str(settings.MEDIA_ROOT))
    with pytest.raises(ValueError, match="not accessible via a URL"):
        backups.backup_storage().url(f"backups/{backup_file}.dump")


def test_the_owner_downloads_through_the_checked_views_and_nobody_else(
    client, urlconf_as_built, private_sample
):
    stranger = UserFactory(role=Role.PRO)
    download = f"/api/v1/audio/{private_sample.pk}/download"
    preview_page = f"/library/samples/{private_sample.pk}/preview"

    mine = client.get(download, **bearer(private_sample.owner))
    theirs = client.get(download, **bearer(stranger))
    nobody = client.get(download)
    client.force_login(private_sample.owner)
    my_preview = client.get(preview_page)
    client.force_login(stranger)
    their_preview = client.get(preview_page)

    assert mine.status_code == 200
    assert b"".join(mine.streaming_content) == b"RIFF private original"
    assert theirs.status_code == 404
    assert nobody.status_code in (401, 403)
    assert my_preview.status_code == 200
    assert their_preview.status_code == 404


@pytest.mark.parametrize(
    ("mode", "header", "expected"),
    [
        ("x-accel-redirect", "X-Accel-Redirect", "/protected-media/{name}"),
        ("x-sendfile", "X-Sendfile", "{path}"),
    ],
)
def test_the_proxy_sends_the_file_when_configured(
    client, settings, private_sample, mode, header, expected
):
    settings.SAMPLEMIND_SENDFILE = mode
    download = f"/api/v1/audio/{private_sample.pk}/download"

    mine = client.get(download, **bearer(private_sample.owner))
    theirs = client.get(download, **bearer(UserFactory(role=Role.PRO)))

    assert mine.status_code == 200
    assert mine[header] == expected.format(
        name=private_sample.file.name, path=private_sample.file.path
    )
    assert mine.content == b""  # the proxy sends the bytes
    assert "attachment" in mine["Content-Disposition"]
    assert theirs.status_code == 404
    assert header not in theirs
