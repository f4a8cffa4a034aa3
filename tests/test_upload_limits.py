"""Oversized uploads are refused while the body streams in, and packs before they expand."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart

from accounts.models import Role
from library.models import BatchJob, Sample
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer, upload_file

UPLOAD = "/api/v1/audio/upload"
BATCH = "/api/v1/audio/batch"


class CountingPayload(FakePayload):
    """A request body that remembers how much of it the server read."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    """Own media and upload-spool folders, so "nothing was left behind" can be checked."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10_000  # larger files spool to disk
    return {"media": Path(settings.MEDIA_ROOT), "spool": spool}


def post_counting(client, url: str, data: dict, user) -> tuple:
    body = encode_multipart(BOUNDARY, data)
    payload = CountingPayload(body)
    response = client.post(
        url, content_type=MULTIPART_CONTENT, **{"wsgi.input": payload}, **bearer(user),
        CONTENT_LENGTH=str(len(body)),
    )  # fmt: skip
    return response, payload, len(body)


@pytest.mark.django_db
def test_an_oversized_request_is_413_before_its_body_is_read(client, tmp_path, settings, folders):
    settings.SAMPLEMIND_MAX_UPLOAD_BYTES = 100_000
    producer = UserFactory(role=Role.PRO)
    big = audio.write(tmp_path / "long.wav", audio.noise(5.0))  # 441 KB

    with open(big, "rb") as handle:
        response, payload, size = post_counting(client, UPLOAD, {"file": handle}, producer)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert "limit" in error["message"] and "per request" in error["message"]
    assert payload.bytes_read == 0  # refused from the declared length alone
    assert not Sample.objects.exists()
    assert files_under(folders["media"]) == [] and files_under(folders["spool"]) == []


@pytest.mark.django_db
def test_one_file_over_the_limit_stops_the_upload_and_leaves_no_spooled_file(
    client, tmp_path, settings, folders
):
    settings.SAMPLEMIND_MAX_UPLOAD_BYTES = 100_000
    producer = UserFactory(role=Role.PRO)  # batch of 50: the request itself may be larger
    small = audio.write(tmp_path / "kick.wav", audio.kick())
    big = audio.write(tmp_path / "too long.wav", audio.noise(5.0))

    with open(small, "rb") as one, open(big, "rb") as two:
        response, payload, size = post_counting(client, BATCH, {"files": [one, two]}, producer)

    assert response.status_code == 413
    error = response.json()["error"]
    assert "too long.wav is larger than" in error["message"]
    assert payload.bytes_read < size / 2  # reading stopped soon after the limit
    assert not Sample.objects.exists() and not BatchJob.objects.exists()
    assert files_under(folders["media"]) == [] and files_under(folders["spool"]) == []


@pytest.mark.django_db
def test_the_upload_page_answers_413_for_a_file_over_the_limit(client, tmp_path, settings):
    settings.SAMPLEMIND_MAX_UPLOAD_BYTES = 100_000
    user = UserFactory(role=Role.FREE)
    client.force_login(user)
    big = audio.write(tmp_path / "long.wav", audio.noise(5.0))

    with open(big, "rb") as handle:
        response = client.post("/library/upload/?rows=1", {"files": handle})

    assert response.status_code == 413
    assert "limit" in response.content.decode()
    assert not Sample.objects.exists()


def _silence_pack(path: Path, members: int, mb_each: int) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for n in range(members):
            with bundle.open(f"pack/silence_{n}.wav", "w", force_zip64=True) as member:
                for _ in range(mb_each):
                    member.write(b"\x00" * 1024**2)
    return path


@pytest.mark.django_db
def test_a_pack_over_the_storage_quota_is_refused_before_it_is_expanded(
    client, tmp_path, settings, folders
):
    # Extraction would stop at this budget with another message: the quota
    # message shows the central directory was read first.
    settings.SAMPLEMIND_MAX_ARCHIVE_BYTES = 5 * 1024**2
    producer = UserFactory(role=Role.PRO)
    SampleFactory(owner=producer, size_bytes=5 * 1024**3 - 10 * 1024**2)  # 10 MB free
    pack = _silence_pack(tmp_path / "pack.zip", members=1, mb_each=32)

    response = upload_file(client, producer, pack, url=BATCH, field="files")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["details"]["quota"] == "storage_bytes"
    assert "32.0 MB" in error["message"] or "32 MB" in error["message"]
    assert not BatchJob.objects.exists()


@pytest.mark.django_db
def test_a_pack_listing_more_files_than_the_batch_size_is_refused_before_it_is_expanded(
    client, tmp_path, settings
):
    settings.SAMPLEMIND_MAX_ARCHIVE_BYTES = 1024**2
    producer = UserFactory(role=Role.PRO)
    pack = _silence_pack(tmp_path / "many.zip", members=51, mb_each=1)

    response = upload_file(client, producer, pack, url=BATCH, field="files")

    assert response.status_code == 403
    assert "51 files; your plan allows 50 per batch" in response.json()["error"]["message"]
