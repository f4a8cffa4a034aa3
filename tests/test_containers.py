"""Audio in a container it does not belong in is read by its content, not refused:
an Ogg Vorbis file named .wav, an Ogg stream inside a RIFF/WAVE data chunk, audio
behind an ID3 tag."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
import soundfile as sf
from django.core.management import call_command

from accounts.models import Role
from library.analysis import AudioDecodeError, analyze_file, decode_audio
from library.models import Sample
from library.services.analysis import sample_analyze
from tests import audio
from tests.factories import UserFactory, bearer, upload_file


def ogg_bytes(samples) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, audio.SR, format="OGG", subtype="VORBIS")
    return buffer.getvalue()


def riff_wrapping(payload: bytes, *, format_tag: int = 0x674F) -> bytes:
    """A RIFF/WAVE file whose data chunk holds ``payload`` (0x674f: Ogg Vorbis, mode 1)."""
    fmt = struct.pack("<HHIIHHH", format_tag, 1, audio.SR, 16000, 1, 16, 0)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"data" + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) % 2)
    chunks += b"LIST" + struct.pack("<I", 4) + b"INFO"
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def test_ogg_vorbis_named_wav_is_analysed_by_analyze_file_and_the_command(tmp_path, capsys):
    path = audio.write(tmp_path / "x.wav", audio.chord(57, seconds=1.5), fmt="ogg")
    assert path.read_bytes()[:4] == b"OggS"

    result = analyze_file(path)
    call_command("analyze_file", str(path), "--json")
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[0])

    assert result["format"] == "ogg"
    assert result["duration"] == pytest.approx(1.5, abs=0.05)
    assert result["loudness_lufs"] is not None and result["category"] is not None
    assert printed["path"] == str(path)
    assert printed["duration"] == pytest.approx(1.5, abs=0.05)


@pytest.mark.django_db
def test_ogg_vorbis_named_wav_uploads_and_is_analysed(client, tmp_path):
    producer = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "x.wav", audio.chord(57, seconds=1.5), fmt="ogg")

    response = upload_file(client, producer, path)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["format"], body["original_filename"]) == ("ogg", "x.wav")
    assert sample_analyze(sample_id=body["id"]) == "ready"
    sample = Sample.objects.get(pk=body["id"])
    assert sample.loudness_lufs is not None and sample.category is not None
    assert sample.embedding is not None
    assert len(sample.waveform) > 100
    preview = client.get(f"/api/v1/audio/{sample.pk}/preview", **bearer(producer))
    assert b"".join(preview.streaming_content)[:4] == b"OggS"
    detail = client.get(f"/api/v1/audio/{sample.pk}", **bearer(producer)).json()
    assert detail["duration"] == pytest.approx(1.5, abs=0.05)


def test_an_ogg_stream_inside_a_riff_wave_file_is_read(tmp_path):
    tone = audio.tone(440.0, seconds=1.0)
    path = tmp_path / "vorbis acm.wav"
    path.write_bytes(riff_wrapping(ogg_bytes(tone)))
    with pytest.raises(sf.LibsndfileError):  # libsndfile alone refuses it
        sf.info(str(path))

    decoded = decode_audio(path)
    result = analyze_file(path)

    assert decoded.format == "ogg"
    assert decoded.duration == pytest.approx(1.0, abs=0.02)
    assert abs(decoded.samples).max() == pytest.approx(0.5, abs=0.05)
    assert (result["format"], result["channels"]) == ("ogg", 1)
    assert result["duration"] == pytest.approx(1.0, abs=0.02)


def test_audio_behind_an_id3_tag_is_read(tmp_path):
    tag = b"ID3\x03\x00\x00" + bytes([0, 0, 0, 20]) + b"\0" * 20
    path = tmp_path / "tagged.wav"
    path.write_bytes(tag + ogg_bytes(audio.tone(seconds=0.8)))

    assert decode_audio(path).duration == pytest.approx(0.8, abs=0.02)


@pytest.mark.parametrize(
    "content",
    [
        riff_wrapping(b"\x01\x02" * 4000, format_tag=0x674F),  # no stream inside
        b"ID3\x03\x00\x00\x00\x00\x00\x10" + b"\0" * 16 + b"not audio at all" * 50,
    ],
)
def test_wrappers_around_something_that_is_not_audio_are_still_refused(tmp_path, content):
    path = tmp_path / "odd.wav"
    path.write_bytes(content)

    with pytest.raises(AudioDecodeError, match="not audio we can read"):
        decode_audio(path)


def test_a_riff_wrapping_whose_data_size_passes_the_end_is_read_to_the_end(tmp_path):
    payload = ogg_bytes(audio.tone(seconds=2.0))
    whole = riff_wrapping(payload)
    # As a writer that streamed the file and never went back to fill in the sizes leaves it.
    at = whole.index(b"data") + 4
    path = Path(tmp_path / "streamed.wav")
    path.write_bytes(whole[:at] + b"\xff\xff\xff\xff" + payload)

    assert decode_audio(path).duration == pytest.approx(2.0, abs=0.02)
