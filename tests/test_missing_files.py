"""Rows whose files are gone (a restored older backup, a lost disk): 404s, not 500s.

Also the other side: files left on disk without a row are reported by
``restore`` and removed on request, and analysis leaves none behind.
"""

from __future__ import annotations

import io
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Role
from library.models import Sample, SampleStatus
from library.services import analysis
from library.services.collections import collection_add_samples, collection_create
from tests import audio
from tests.conftest import backup_storage_at
from tests.factories import SampleFactory, UserFactory, bearer


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = backup_storage_at(tmp_path / "backup-storage")


def media_files(settings, folder: str) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in (root / folder).rglob("*") if p.is_file())


@pytest.fixture
def me():
    return UserFactory(role=Role.PRO)


def stored_sample(owner, name: str, content: bytes, **fields):
    return SampleFactory(
        owner=owner,
        name=name,
        original_filename=f"{name}.wav",
        file__filename=f"{name}.wav",
        file__data=content,
        **fields,
    )


def lose_file(field) -> None:
    default_storage.delete(field.name)
    assert not default_storage.exists(field.name)


def assert_file_missing(response) -> None:
    assert response.status_code == 404, response.content
    error = response.json()["error"]
    assert error["code"] == "file_missing"
    assert set(error) == {"code", "message", "details"}


@pytest.mark.django_db
def test_downloading_a_sample_whose_original_is_gone_is_404(client, me):
    sample = stored_sample(me, "Kick", b"RIFF kick")
    lose_file(sample.file)

    response = client.get(f"/api/v1/audio/{sample.pk}/download", **bearer(me))

    assert_file_missing(response)
    assert "Kick.wav" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_a_preview_whose_file_is_gone_is_404_in_the_api_and_on_the_page(client, me):
    sample = stored_sample(me, "Pad", b"RIFF pad")
    sample.preview.save("pad.ogg", ContentFile(b"OggS preview"), save=True)
    lose_file(sample.preview)

    assert_file_missing(client.get(f"/api/v1/audio/{sample.pk}/preview", **bearer(me)))
    client.force_login(me)
    assert client.get(reverse("library:sample-preview", args=[sample.pk])).status_code == 404
    lose_file(sample.file)
    sample.preview = ""
    sample.save()  # no preview yet: the owner hears the original, which is gone too
    assert client.get(reverse("library:sample-preview", args=[sample.pk])).status_code == 404


@pytest.mark.django_db
def test_a_collection_zip_leaves_out_missing_files_and_names_them(client, me):
    kept = stored_sample(me, "Kick", b"kick bytes")
    lost = stored_sample(me, "Snare", b"snare bytes")
    collection = collection_create(owner=me, name="Pack")
    collection_add_samples(collection=collection, actor=me, sample_ids=[kept.pk, lost.pk])
    lose_file(lost.file)

    response = client.get(f"/api/v1/collections/{collection.pk}/download", **bearer(me))

    assert response.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert bundle.namelist() == ["Kick.wav", "MISSING.txt"]
    assert bundle.read("Kick.wav") == b"kick bytes"
    assert "Snare (Snare.wav)" in bundle.read("MISSING.txt").decode()

    lose_file(kept.file)
    response = client.get(f"/api/v1/collections/{collection.pk}/download", **bearer(me))
    assert_file_missing(response)


@pytest.mark.django_db(transaction=True)
def test_restore_reports_files_without_a_row_and_removes_them_on_request(settings):
    owner = UserFactory()
    kept = stored_sample(owner, "Kept", b"RIFF kept")
    kept.preview.save("kept.ogg", ContentFile(b"OggS kept"), save=True)
    call_command("backup", "--no-prune", stdout=StringIO())
    newer = stored_sample(owner, "Newer", b"RIFF newer")
    newer.preview.save("newer.ogg", ContentFile(b"OggS newer"), save=True)
    orphans = {newer.file.name, newer.preview.name}

    out = StringIO()
    call_command("restore", "latest", interactive=False, stdout=out)

    assert not Sample.objects.filter(pk=newer.pk).exists()
    assert {f"  media orphan: {path}" for path in orphans} <= set(out.getvalue().splitlines())
    assert "media: 2 files have no row" in out.getvalue()
    assert all(default_storage.exists(path) for path in orphans)  # reported, not touched

    out = StringIO()
    call_command("restore", "latest", "--remove-orphans", interactive=False, stdout=out)

    assert "media: removed 2 orphaned files" in out.getvalue()
    assert not any(default_storage.exists(path) for path in orphans)
    assert default_storage.exists(kept.file.name) and default_storage.exists(kept.preview.name)
    assert "media: all 2 files present and unchanged" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_an_analysis_that_fails_after_writing_its_preview_leaves_no_file(
    settings, tmp_path, monkeypatch
):
    wav = audio.write(tmp_path / "kick.wav", audio.kick())
    sample = stored_sample(UserFactory(), "Kick", wav.read_bytes(), status=SampleStatus.PENDING)
    monkeypatch.setattr(analysis, "LAZY_PREVIEW_MAX_SECONDS", 0)  # the worker encodes it

    def interrupted(*args, **kwargs):
        raise RuntimeError("worker interrupted after the preview was written")

    monkeypatch.setattr(analysis, "_steered", interrupted)
    with pytest.raises(RuntimeError, match="interrupted"):
        analysis.sample_analyze(sample_id=str(sample.pk))

    sample.refresh_from_db()
    assert not sample.preview
    assert media_files(settings, "previews") == []
