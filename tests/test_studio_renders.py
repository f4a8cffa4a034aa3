"""Matched renders: stretched loops and shifted notes that the analyser reads at the target."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
import soundfile as sf
from django.core.files.storage import default_storage

from accounts.models import Role
from library.analysis import analyze_file
from library.models import Sample
from studio.models import Render, RenderStatus
from studio.services.renders import render_produce
from tests import audio
from tests.factories import CollectionFactory, UserFactory, bearer
from tests.studio_helpers import analysed_sample, keys_note


def render_url(sample: Sample, query: str) -> str:
    return f"/api/v1/audio/{sample.pk}/render?{query}"


def fetch_render(client, user, sample: Sample, query: str):
    """Ask for a render, make it as the worker would, and ask again: the file's answer."""
    first = client.get(render_url(sample, query), **bearer(user))
    assert first.status_code == 202, first.content
    assert first.json()["status"] == "pending" and first["Retry-After"] == "1"
    assert render_produce(render_id=first.json()["id"]) == "ready"
    return client.get(render_url(sample, query), **bearer(user))


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def producer(db):
    return UserFactory(role=Role.PRO)


@pytest.fixture
def loop_100(producer, tmp_path) -> Sample:
    path = audio.write(tmp_path / "Dusty Drums 100.wav", audio.drum_loop(100, bars=4))
    sample = analysed_sample(producer, path)
    assert sample.is_loop and sample.bpm == pytest.approx(100, rel=0.02)
    return sample


@pytest.mark.django_db
def test_a_100_bpm_loop_rendered_at_120_lasts_five_sixths_and_reads_120(
    client, producer, loop_100, tmp_path
):
    answer = fetch_render(client, producer, loop_100, "bpm=120&format=wav")

    assert answer.status_code == 200
    assert 'filename="Dusty Drums 100 (120 BPM).wav"' in answer["Content-Disposition"]
    path = tmp_path / "render.wav"
    path.write_bytes(body_of(answer))
    info = sf.info(str(path))
    assert info.subtype == "PCM_24"
    assert info.duration == pytest.approx(loop_100.duration * 5 / 6, abs=0.01)
    assert analyze_file(path, embedding=False)["bpm"] == pytest.approx(120, rel=0.02)


@pytest.mark.django_db
def test_a_one_shot_in_a_rendered_in_c_reads_c(client, producer, tmp_path):
    path = audio.write(tmp_path / "Keys A.wav", keys_note(57))  # A3
    sample = analysed_sample(producer, path)
    assert (sample.key, sample.descriptors["root_note"]) == ("A", "A3")

    answer = fetch_render(client, producer, sample, "key=C&format=flac")

    assert answer.status_code == 200
    out = tmp_path / "render.flac"
    out.write_bytes(body_of(answer))
    read = analyze_file(out, embedding=False)
    assert read["key"] == "C" and read["root_note"] == "C4"
    assert sf.info(str(out)).duration == pytest.approx(sample.duration, abs=0.01)


@pytest.mark.django_db
def test_a_render_is_made_once_and_served_from_the_cache(client, producer, loop_100):
    fetch_render(client, producer, loop_100, "bpm=120")

    again = client.get(render_url(loop_100, "bpm=120.0&format=wav"), **bearer(producer))

    assert again.status_code == 200
    assert Render.objects.filter(sample=loop_100).count() == 1


@pytest.mark.django_db
def test_correcting_the_loops_tempo_makes_the_render_again(client, producer, loop_100):
    fetch_render(client, producer, loop_100, "bpm=120")
    client.patch(
        f"/api/v1/audio/{loop_100.pk}",
        {"bpm": 60},
        content_type="application/json",
        **bearer(producer),
    )

    answer = client.get(render_url(loop_100, "bpm=120"), **bearer(producer))

    assert answer.status_code == 202
    assert answer.json()["tempo_ratio"] == pytest.approx(1.0)  # 60 BPM at double time


@pytest.mark.django_db
def test_the_project_tempo_and_key_are_the_default_target(client, producer, loop_100):
    client.put(
        "/api/v1/studio/project",
        {"bpm": 90, "key": "F minor"},
        content_type="application/json",
        **bearer(producer),
    )

    body = client.get(render_url(loop_100, ""), **bearer(producer)).json()

    assert (body["bpm"], body["key"], body["mode"]) == (90, "F", "minor")
    assert body["semitones"] == 0  # drums keep their pitch
    assert "drums keep their pitch" in body["notes"]


@pytest.mark.django_db
def test_another_persons_private_sample_is_404(client, loop_100):
    stranger = UserFactory(role=Role.PRO)

    answer = client.get(render_url(loop_100, "bpm=120"), **bearer(stranger))

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert not Render.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [("", "bpm"), ("bpm=2", "bpm"), ("bpm=120&format=mp3", "format"), ("key=H", "key")],
)
def test_bad_targets_answer_400(client, producer, loop_100, query, field):
    answer = client.get(render_url(loop_100, query), **bearer(producer))

    assert answer.status_code == 400
    assert field in answer.json()["error"]["details"]


@pytest.mark.django_db
def test_a_sample_not_analysed_yet_answers_409(client, producer, loop_100):
    Sample.objects.filter(pk=loop_100.pk).update(status="pending")

    answer = client.get(render_url(loop_100, "bpm=120"), **bearer(producer))

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "not_analysed"


@pytest.mark.django_db
def test_renders_count_against_storage_and_old_ones_make_room(
    client, loop_100, producer, django_capture_on_commit_callbacks
):
    producer.role = Role.FREE  # 100 MB
    producer.save()
    limit = 100 * 1024**2
    fetch_render(client, producer, loop_100, "bpm=120")
    old = Render.objects.get()
    # Samples and the render now fill the plan; a 140 BPM render (shorter) needs room.
    Sample.objects.filter(pk=loop_100.pk).update(size_bytes=limit - old.size_bytes)

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.get(render_url(loop_100, "bpm=140"), **bearer(producer))

    assert answer.status_code == 202  # the 120 BPM render was deleted to make room
    assert not Render.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(old.file.name)

    Sample.objects.filter(pk=loop_100.pk).update(size_bytes=limit - 500 * 1024)
    answer = client.get(render_url(loop_100, "bpm=150"), **bearer(producer))

    assert answer.status_code == 403
    assert answer.json()["error"]["details"]["quota"] == "storage_bytes"


@pytest.mark.django_db
def test_too_many_renders_waiting_answers_429_with_retry_after(client, producer, loop_100):
    for bpm in (110, 115, 120, 125):
        assert client.get(render_url(loop_100, f"bpm={bpm}"), **bearer(producer)).status_code == 202

    answer = client.get(render_url(loop_100, "bpm=130"), **bearer(producer))

    assert answer.status_code == 429
    assert int(answer["Retry-After"]) >= 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_renders_while_the_api_answers_202(client, celery_worker_process, tmp_path):
    producer = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "loop.wav", audio.drum_loop(100, bars=2))
    sample = analysed_sample(producer, path)

    first = client.get(render_url(sample, "bpm=125&format=flac"), **bearer(producer))
    assert first.status_code == 202
    deadline = time.monotonic() + 60
    answer = first
    while answer.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.5)
        answer = client.get(render_url(sample, "bpm=125&format=flac"), **bearer(producer))

    assert answer.status_code == 200
    data, rate = sf.read(io.BytesIO(body_of(answer)))
    assert data.shape[0] / rate == pytest.approx(sample.duration * 100 / 125, abs=0.01)
    assert Render.objects.get().status == RenderStatus.READY


@pytest.mark.django_db
def test_a_collection_comes_as_a_zip_of_renders(client, producer, loop_100, tmp_path):
    keys = analysed_sample(producer, audio.write(tmp_path / "Keys A.wav", keys_note(57)))
    crate = CollectionFactory(owner=producer, name="Crate")
    crate.items.create(sample=loop_100, position=0)
    crate.items.create(sample=keys, position=1)
    url = f"/api/v1/collections/{crate.pk}/render?bpm=120&key=C&format=wav"

    first = client.get(url, **bearer(producer))

    assert first.status_code == 202
    assert first.json() == {"total": 2, "ready": 0, "waiting": 2, "failed": 0}
    for render in Render.objects.filter(status=RenderStatus.PENDING):
        render_produce(render_id=str(render.pk))
    answer = client.get(url, **bearer(producer))
    assert answer.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(body_of(answer)))
    assert bundle.namelist() == [
        "001 Dusty Drums 100 (120 BPM, C major).wav",
        "002 Keys A (120 BPM, C major).wav",
    ]
    keys_out = tmp_path / "keys.wav"
    keys_out.write_bytes(bundle.read("002 Keys A (120 BPM, C major).wav"))
    assert analyze_file(keys_out, embedding=False)["root_note"] == "C4"


@pytest.mark.django_db
def test_another_persons_private_collection_is_404(client, producer):
    crate = CollectionFactory(owner=UserFactory(), name="Theirs")

    answer = client.get(f"/api/v1/collections/{crate.pk}/render?bpm=120", **bearer(producer))

    assert answer.status_code == 404


@pytest.mark.django_db
def test_sounds_longer_than_the_render_limit_answer_400(client, producer, loop_100):
    Sample.objects.filter(pk=loop_100.pk).update(duration=95.0)

    answer = client.get(render_url(loop_100, "bpm=120"), **bearer(producer))

    assert answer.status_code == 400
    assert "90 seconds" in answer.json()["error"]["message"]
