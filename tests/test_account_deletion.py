"""Deleting an account takes its samples' originals and previews out of storage too."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import Role
from accounts.services import user_delete
from library.models import Sample
from library.services.analysis import sample_analyze
from tests import audio
from tests.factories import UserFactory, bearer, upload_file
from tests.test_s3_storage import _keys, s3  # noqa: F401 - the S3 server fixture


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def _upload_two(client, user, tmp_path) -> list[Sample]:
    ids = []
    for name, sound in (("kick.wav", audio.kick()), ("snare.wav", audio.snare())):
        response = upload_file(client, user, audio.write(tmp_path / name, sound))
        assert response.status_code == 201, response.json()
        ids.append(response.json()["id"])
    assert sample_analyze(sample_id=ids[0]) == "ready"
    # One with a preview too: played once, so it has one.
    played = client.get(f"/api/v1/audio/{ids[0]}/preview", **bearer(user))
    assert played.status_code in (200, 302)  # streamed, or a signed URL on S3
    return list(Sample.objects.filter(pk__in=ids))


@pytest.mark.django_db
def test_a_deleted_accounts_files_are_gone_and_others_stay(
    client, tmp_path, own_media_root, django_capture_on_commit_callbacks
):
    leaving, staying = UserFactory(role=Role.PRO), UserFactory(role=Role.PRO)
    _upload_two(client, leaving, tmp_path)
    kept = upload_file(client, staying, audio.write(tmp_path / "hat.wav", audio.hihat())).json()
    kept_file = Path(Sample.objects.get(pk=kept["id"]).file.path)
    assert len(stored_files(own_media_root)) == 4  # 2 originals, 1 preview, the other's file

    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=leaving, actor=None)

    assert not Sample.objects.filter(owner_id=leaving.pk).exists()
    assert stored_files(own_media_root) == [kept_file]


@pytest.mark.django_db
def test_a_deleted_accounts_files_leave_s3(
    client,
    s3,  # noqa: F811
    tmp_path,
    django_capture_on_commit_callbacks,
):
    user = UserFactory(role=Role.PRO)
    samples = _upload_two(client, user, tmp_path)
    assert len(_keys(s3)) == 3
    assert all(s.file.name in _keys(s3) for s in samples)

    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user, actor=None)

    assert _keys(s3) == set()
