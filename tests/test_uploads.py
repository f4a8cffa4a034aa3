"""Uploading samples through the API: validation by decoding, duplicates, quotas, archives."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from accounts.models import Role
from accounts.services import rate_limit_override_set
from library.models import BatchJob, Sample
from library.services.analysis import sample_analyze
from organise.audio import DECODE_SECONDS
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer, upload_file

UPLOAD = "/api/v1/audio/upload"
BATCH = "/api/v1/audio/batch"


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "samples"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    """A media folder for this test alone, so "nothing was stored" can be checked."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def producer():
    return UserFactory(role=Role.PRO)


@pytest.mark.django_db
@pytest.mark.parametrize("ext", ["wav", "aiff", "flac", "ogg", "mp3"])
def test_each_supported_format_uploads_pending_then_is_analysed(client, producer, tmp_path, ext):
    path = audio.write(tmp_path / f"Warm Pad.{ext}", audio.chord(57, seconds=1.5))

    response = upload_file(client, producer, path)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["format"] == ext
    assert body["name"] == "Warm Pad"
    assert body["original_filename"] == f"Warm Pad.{ext}"
    assert body["duration"] == pytest.approx(1.5, abs=0.1)
    assert Sample.objects.get(pk=body["id"]).file.read() == path.read_bytes()
    # What the analysis worker runs (tests/test_analysis_pipeline.py runs a real one).
    assert sample_analyze(sample_id=body["id"]) == "ready"
    detail = client.get(f"/api/v1/audio/{body['id']}", **bearer(producer)).json()
    assert detail["status"] == "ready" and detail["preview_url"]
    assert (detail["key"], detail["mode"]) == ("A", "major")
    assert detail["duration"] == pytest.approx(1.5, abs=0.1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.wav", b"These are my notes, not audio.\n" * 20),
        ("random.mp3", bytes(range(256)) * 64),
        ("empty.wav", b""),
        ("fake.flac", b"fLaC" + b"\x00" * 100),
    ],
)
def test_files_that_are_not_audio_are_refused_and_nothing_is_stored(
    client, producer, tmp_path, settings, name, content
):
    path = tmp_path / name
    path.write_bytes(content)

    response = upload_file(client, producer, path)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_audio"
    assert name in error["message"]
    assert not Sample.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_a_file_cut_in_half_is_stored_and_analysed_as_far_as_it_goes(
    client, producer, tmp_path, fmt
):
    whole = audio.write(tmp_path / f"whole.{fmt}", audio.drum_loop(120))  # 4 s
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    response = upload_file(client, producer, cut)

    assert response.status_code == 201, response.content
    assert sample_analyze(sample_id=response.json()["id"]) == "ready"
    sample = Sample.objects.get(pk=response.json()["id"])
    assert 1.0 < sample.duration < 2.1  # what is there, not the header's 4 s
    assert len(sample.waveform) == 800
    preview = client.get(f"/api/v1/audio/{sample.pk}/preview", **bearer(producer))
    assert b"".join(preview.streaming_content)[:4] == b"OggS"


@pytest.mark.django_db
def test_a_file_cut_inside_its_header_is_refused_and_nothing_is_stored(
    client, producer, tmp_path, settings
):
    whole = audio.write(tmp_path / "whole.wav", audio.drum_loop(120))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:30])

    response = upload_file(client, producer, cut)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_audio"
    assert error["message"].startswith("cut.wav: This file is not audio we can read")
    assert stored_files(settings) == [] and not Sample.objects.exists()


@pytest.mark.django_db
def test_validating_a_long_upload_decodes_only_its_first_seconds(
    client, producer, tmp_path, monkeypatch
):
    rate = 8000
    path = tmp_path / "quarter hour.flac"
    sf.write(path, np.tile(audio.tone(220, 1.0, sr=rate), 15 * 60), rate)
    frames_read = []
    read = sf.SoundFile.read

    def counting_read(self, frames=-1, *args, **kwargs):
        data = read(self, frames, *args, **kwargs)
        frames_read.append(len(data))
        return data

    monkeypatch.setattr(sf.SoundFile, "read", counting_read)

    response = upload_file(client, producer, path)

    assert response.status_code == 201, response.content
    assert response.json()["duration"] == pytest.approx(15 * 60, abs=0.01)
    # Two seconds prove it decodes; the near-duplicate fingerprint reads its own few seconds.
    assert sum(frames_read) == 2 * rate + int(DECODE_SECONDS * rate)


@pytest.mark.django_db
def test_an_oversized_file_is_413_with_the_limit_in_the_message(
    client, producer, tmp_path, settings
):
    settings.SAMPLEMIND_MAX_UPLOAD_BYTES = 50_000
    path = audio.write(tmp_path / "long.wav", audio.noise(2.0))

    response = upload_file(client, producer, path)

    assert response.status_code == 413
    assert "limit" in response.json()["error"]["message"]
    assert not Sample.objects.exists()


@pytest.mark.django_db
def test_an_exact_duplicate_is_reported_not_stored_twice(client, producer, tmp_path, settings):
    path = audio.write(tmp_path / "kick.wav", audio.kick())
    first = upload_file(client, producer, path).json()
    copy = tmp_path / "kick copy.wav"
    copy.write_bytes(path.read_bytes())

    again = upload_file(client, producer, copy)

    assert again.status_code == 409
    assert again.json()["error"]["details"]["sample_id"] == first["id"]
    assert Sample.objects.count() == 1
    assert len(stored_files(settings)) == 1
    # Another account may hold the same sound.
    assert upload_file(client, UserFactory(role=Role.PRO), copy).status_code == 201


@pytest.mark.django_db
def test_daily_upload_quota_refuses_with_a_clear_message(client, tmp_path):
    free = UserFactory(role=Role.FREE)
    SampleFactory.create_batch(10, owner=free)
    path = audio.write(tmp_path / "one more.wav", audio.kick())

    response = upload_file(client, free, path)

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "10 uploads a day" in error["message"]
    assert error["details"]["quota"] == "uploads_per_day"


def _free_uploader():
    """A free account whose requests a minute do not run out before its uploads a day do."""
    free = UserFactory(role=Role.FREE)
    rate_limit_override_set(user=free, api_requests_per_minute=None, actor=None)
    return free


def _distinct_kicks(tmp_path: Path, count: int) -> list[Path]:
    return [
        # Far enough apart not to be near-duplicates of one another (organise.fingerprint).
        audio.write(
            tmp_path / f"kick {n}.wav", audio.kick_variant(60 + 40 * n, 30 + 6 * n, 4 + 4 * n)
        )
        for n in range(count)
    ]


@pytest.mark.django_db
def test_deleting_a_sample_does_not_give_back_a_daily_upload(client, tmp_path):
    free = _free_uploader()
    *ten, eleventh = _distinct_kicks(tmp_path, 11)
    ids = []
    for path in ten:
        response = upload_file(client, free, path)
        assert response.status_code == 201, response.json()
        ids.append(response.json()["id"])
    assert client.delete(f"/api/v1/audio/{ids[0]}", **bearer(free)).status_code == 204

    response = upload_file(client, free, eleventh)

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert "10 uploads a day; 0 left today" in error["message"]
    assert Sample.objects.filter(owner=free).count() == 9
    # Nor does uploading the deleted file again.
    assert upload_file(client, free, ten[0]).status_code == 403


@pytest.mark.django_db
def test_refused_duplicates_do_not_use_up_daily_uploads(client, tmp_path):
    free = _free_uploader()
    kicks = _distinct_kicks(tmp_path, 10)
    for path in kicks[:9]:
        assert upload_file(client, free, path).status_code == 201
    for _ in range(3):
        assert upload_file(client, free, kicks[0]).status_code == 409

    assert upload_file(client, free, kicks[9]).status_code == 201
    assert Sample.objects.filter(owner=free).count() == 10


@pytest.mark.django_db
def test_duplicates_in_a_batch_do_not_count_against_the_daily_quota(client, tmp_path):
    producer = UserFactory(role=Role.PRO)
    SampleFactory.create_batch(98, owner=producer)
    held, new, other = _distinct_kicks(tmp_path, 3)
    assert upload_file(client, producer, held).status_code == 201  # 1 upload left today
    files = {f"pack/{p.name}": p.read_bytes() for p in (held, new, other)}

    refused = upload_file(client, producer, _zip(tmp_path / "three.zip", files), url=BATCH,
                          field="files")  # fmt: skip
    assert refused.status_code == 403
    assert "1 left today and this needs 2" in refused.json()["error"]["message"]

    files.pop(f"pack/{other.name}")
    accepted = upload_file(client, producer, _zip(tmp_path / "two.zip", files), url=BATCH,
                           field="files")  # fmt: skip
    assert accepted.status_code == 202, accepted.json()
    assert [e["code"] for e in accepted.json()["errors"]] == ["duplicate"]
    assert Sample.objects.filter(owner=producer).count() == 100


@pytest.mark.django_db
def test_a_pack_uploaded_again_is_not_refused_for_room_its_duplicates_would_take(client, tmp_path):
    producer = UserFactory(role=Role.PRO)
    files = {f"pack/{p.name}": p.read_bytes() for p in _distinct_kicks(tmp_path, 3)}
    first = upload_file(client, producer, _zip(tmp_path / "first.zip", files), url=BATCH,
                        field="files")  # fmt: skip
    assert first.status_code == 202, first.json()
    # Leave less free storage than the pack's size: only its new file needs room.
    snare = audio.write(tmp_path / "snare.wav", audio.snare())
    held = sum(Sample.objects.filter(owner=producer).values_list("size_bytes", flat=True))
    SampleFactory(owner=producer, size_bytes=5 * 1024**3 - held - snare.stat().st_size - 1000)
    files["pack/snare.wav"] = snare.read_bytes()

    again = upload_file(client, producer, _zip(tmp_path / "again.zip", files), url=BATCH,
                        field="files")  # fmt: skip

    assert again.status_code == 202, again.json()
    assert [e["code"] for e in again.json()["errors"]] == ["duplicate"] * 3
    assert Sample.objects.filter(owner=producer, original_filename="snare.wav").exists()


@pytest.mark.django_db
def test_storage_quota_refuses_with_a_clear_message(client, tmp_path):
    free = UserFactory(role=Role.FREE)
    SampleFactory(owner=free, size_bytes=100 * 1024**2 - 100)
    path = audio.write(tmp_path / "snare.wav", audio.snare())

    response = upload_file(client, free, path)

    assert response.status_code == 403
    assert "storage" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_markup_in_name_tags_and_description_is_cleaned(client, producer, tmp_path):
    path = audio.write(tmp_path / "x.wav", audio.kick())

    response = upload_file(
        client,
        producer,
        path,
        name="<script>alert(1)</script>Big Kick",
        tags="<b>Drums</b>, 808 , drums, <img src=x onerror=alert(1)>",
        description='Punchy <a href="javascript:alert(1)">kick</a><script>x()</script>',
    )

    body = response.json()
    assert body["name"] == "Big Kick"
    assert body["tags"] == ["drums", "808"]
    assert body["description"] == "Punchy <a>kick</a>"


@pytest.mark.django_db
def test_free_accounts_cannot_upload_public_samples(client, tmp_path):
    path = audio.write(tmp_path / "x.wav", audio.kick())

    response = upload_file(client, UserFactory(role=Role.FREE), path, visibility="public")

    assert response.status_code == 403
    assert "audio:share" in response.json()["error"]["message"]


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            bundle.writestr(info, "/etc/passwd")
    return path


def _wav_bytes(samples) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, audio.SR, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.mark.django_db
def test_a_zipped_pack_becomes_one_batch_job(client, producer, tmp_path):
    pack = _zip(
        tmp_path / "pack.zip",
        {
            "Pack/Kicks/BD_01.wav": _wav_bytes(audio.kick()),
            "Pack/Snares/SN_01.wav": _wav_bytes(audio.snare()),
            "Pack/Pads/pad.wav": _wav_bytes(audio.chord(60)),
            "Pack/readme.txt": b"thanks for downloading",
            "__MACOSX/Pack/._BD_01.wav": b"resource fork",
            "Pack/broken.wav": b"not audio at all",
        },
    )

    response = upload_file(client, producer, pack, url=BATCH, field="files")

    assert response.status_code == 202, response.json()
    job = response.json()
    assert job["total"] == 4
    assert {s["name"] for s in job["samples"]} == {"BD 01", "SN 01", "pad"}
    errors = {entry["file"]: entry for entry in job["errors"]}
    assert errors["Pack/readme.txt"]["code"] == "skipped"
    assert errors["Pack/broken.wav"]["code"] == "invalid_audio"
    assert job["failed"] == 1
    status = client.get(f"{BATCH}/{job['id']}", **bearer(producer))
    assert status.json()["total"] == 4


@pytest.mark.django_db
def test_a_pack_is_known_by_its_content_not_its_name(client, producer, tmp_path):
    # A pack saved with a ".wav" name is still expanded...
    pack = _zip(tmp_path / "pack.wav", {"Pack/BD_01.wav": _wav_bytes(audio.kick())})
    # ...and a recording saved with a ".zip" name is imported as the audio it is.
    loop = tmp_path / "loop.zip"
    loop.write_bytes(_wav_bytes(audio.snare()))

    with open(pack, "rb") as one, open(loop, "rb") as two:
        response = client.post(BATCH, {"files": [one, two]}, **bearer(producer))

    assert response.status_code == 202, response.json()
    job = response.json()
    assert job["errors"] == []
    assert {s["name"] for s in job["samples"]} == {"BD 01", "loop"}
    assert set(Sample.objects.values_list("original_filename", flat=True)) == {
        "BD_01.wav",
        "loop.zip",
    }


@pytest.mark.django_db
def test_several_files_upload_in_one_batch(client, producer, tmp_path):
    kick = audio.write(tmp_path / "kick.wav", audio.kick())
    hat = audio.write(tmp_path / "hat.flac", audio.hihat())

    with open(kick, "rb") as one, open(hat, "rb") as two:
        response = client.post(BATCH, {"files": [one, two]}, **bearer(producer))

    assert response.status_code == 202
    assert response.json()["total"] == 2
    assert Sample.objects.filter(owner=producer).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("members", "links", "expected"),
    [
        ({"../../evil.wav": b"x"}, (), "unsafe path"),
        ({"/etc/cron.d/evil.wav": b"x"}, (), "unsafe path"),
        ({"C:\\evil.wav": b"x"}, (), "unsafe path"),
        ({"inner.zip": b"PK\x05\x06" + b"\x00" * 18}, (), "inside archives"),
        ({"ok.wav": b"x"}, ("link.wav",), "link"),
    ],
)
def test_unsafe_archives_are_refused_whole(
    client, producer, tmp_path, settings, members, links, expected
):
    pack = _zip(tmp_path / "bad.zip", {"fine.wav": _wav_bytes(audio.kick()), **members}, links)

    response = upload_file(client, producer, pack, url=BATCH, field="files")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_archive"
    assert expected in response.json()["error"]["message"]
    assert not Sample.objects.exists()
    assert not BatchJob.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_a_zip_bomb_stops_at_the_expansion_budget(client, producer, tmp_path, settings):
    settings.SAMPLEMIND_MAX_ARCHIVE_BYTES = 5 * 1024**2
    pack = tmp_path / "bomb.zip"
    with zipfile.ZipFile(pack, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        with bundle.open("silence.wav", "w", force_zip64=True) as member:
            for _ in range(64):
                member.write(b"\x00" * 1024**2)
    assert pack.stat().st_size < 200_000

    response = upload_file(client, producer, pack, url=BATCH, field="files")

    assert response.status_code in (400, 413)
    assert (
        "allowed size" in response.json()["error"]["message"]
        or "limit" in response.json()["error"]["message"]
    )
    assert not Sample.objects.exists()


@pytest.mark.django_db
def test_batch_size_quota_refuses_the_whole_batch(client, producer, tmp_path):
    blip = _wav_bytes(audio.tone(880, seconds=0.05))
    members = {f"blips/blip_{n:02d}.wav": blip[:-2] + bytes([n % 256, n // 256]) for n in range(51)}
    pack = _zip(tmp_path / "many.zip", members)

    response = upload_file(client, producer, pack, url=BATCH, field="files")

    assert response.status_code == 403
    assert "50 per batch" in response.json()["error"]["message"]
    assert not Sample.objects.exists()


@pytest.mark.django_db
def test_free_accounts_have_no_batch_uploads(client, tmp_path):
    kick = audio.write(tmp_path / "kick.wav", audio.kick())

    response = upload_file(client, UserFactory(role=Role.FREE), kick, url=BATCH, field="files")

    assert response.status_code == 403
    assert "audio:batch" in response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", None),
        (b"", "application/x-www-form-urlencoded"),
        (b'{"files": ["kick.wav"]}', "application/json"),
        (b"visibility=public&tags=drums", "application/x-www-form-urlencoded"),
        (b"files=not-a-file", "application/x-www-form-urlencoded"),
    ],
    ids=["empty", "empty-form", "json", "no-files", "files-not-a-file"],
)
def test_an_empty_or_malformed_batch_is_refused_with_the_error_shape(
    client, producer, settings, body, content_type
):
    extra = {"content_type": content_type} if content_type else {}

    response = client.generic("POST", BATCH, body, **extra, **bearer(producer))

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert "files" in error["message"] or "files" in error["details"]
    assert not BatchJob.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db
def test_a_multipart_batch_whose_files_field_is_text_is_refused(client, producer):
    response = client.post(BATCH, {"files": "kick.wav", "visibility": "public"}, **bearer(producer))

    assert response.status_code == 400
    assert "files" in response.json()["error"]["details"]
    assert not BatchJob.objects.exists()
