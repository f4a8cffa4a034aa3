"""Studio pages: the kit list and builder, and what a row dragged to the DAW drops."""

from __future__ import annotations

import re

import pytest
import soundfile as sf

from accounts.models import Role
from studio.models import Kit
from studio.services.project import project_update
from studio.services.renders import render_produce, render_request
from tests import audio
from tests.factories import UserFactory
from tests.studio_helpers import analysed_sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def producer(client):
    user = UserFactory(role=Role.PRO)
    client.force_login(user)
    return user


def test_a_kit_made_on_the_page_opens_its_builder_with_sixteen_pads(client, producer):
    answer = client.post("/studio/kits/", {"name": "Kicks & Snares < 808", "visibility": "private"})

    kit = Kit.objects.get(owner=producer)
    assert answer.status_code == 302 and answer["Location"] == f"/studio/kits/{kit.pk}/"
    page = client.get(answer["Location"]).content.decode()
    assert len(re.findall(r'class="kit-pad(?: kit-pad--filled)?"', page)) == 16
    assert "Kicks &amp; Snares &lt; 808" in page and "Snares < 808" not in page
    assert f'data-pads-url="/api/v1/kits/{kit.pk}/pads"' in page
    assert f"/api/v1/kits/{kit.pk}/export?format=sfz" in page


def test_another_persons_private_kit_page_is_404(client, producer):
    kit = Kit.objects.create(owner=UserFactory(), name="Theirs")

    assert client.get(f"/studio/kits/{kit.pk}/").status_code == 404


@pytest.fixture
def loop(producer, tmp_path):
    path = audio.write(tmp_path / "Dusty Drums.wav", audio.drum_loop(100, bars=2))
    return analysed_sample(producer, path)


def test_library_rows_carry_the_drag_url_and_it_drops_the_original(client, producer, loop):
    page = client.get("/library/").content.decode()

    row = re.search(r'<tr class="sample-row"[^>]*>', page).group(0)
    assert f'data-drag-url="/studio/samples/{loop.pk}/file"' in row
    assert 'data-drag-name="Dusty Drums.wav"' in row
    answer = client.get(f"/studio/samples/{loop.pk}/file")
    assert answer.status_code == 200
    assert 'filename="Dusty Drums.wav"' in answer["Content-Disposition"]


def test_with_matching_on_the_drag_drops_the_matched_render(client, producer, loop, tmp_path):
    project_update(user=producer, bpm=125, matching=True)
    render = render_request(
        user=producer, sample=loop, bpm=125, key=None, mode=None, fmt="wav", pitch_drums=False
    )
    render_produce(render_id=str(render.pk))

    answer = client.get(f"/studio/samples/{loop.pk}/file")

    assert answer.status_code == 200
    assert 'filename="Dusty Drums (125 BPM).wav"' in answer["Content-Disposition"]
    out = tmp_path / "dropped.wav"
    out.write_bytes(b"".join(answer.streaming_content))
    assert sf.info(str(out)).duration == pytest.approx(loop.duration * 100 / 125, abs=0.01)


def test_another_persons_sample_cannot_be_dragged(client, producer, tmp_path):
    theirs = analysed_sample(
        UserFactory(), audio.write(tmp_path / "theirs.wav", audio.drum_loop(100))
    )

    assert client.get(f"/studio/samples/{theirs.pk}/file").status_code == 404


def test_the_project_tempo_and_key_are_set_on_the_studio_page(client, producer):
    answer = client.post("/studio/kits/", {"bpm": "124", "key": "Fm", "matching": "on"})

    assert answer.status_code == 302
    page = client.get("/studio/kits/").content.decode()
    assert 'value="124.0"' in page and 'value="F minor"' in page
    body = client.get("/api/v1/studio/project").json()
    assert (body["bpm"], body["key"], body["mode"], body["matching"]) == (124, "F", "minor", True)


def test_a_bad_key_on_the_studio_page_is_shown_not_saved(client, producer):
    answer = client.post("/studio/kits/", {"bpm": "124", "key": "H#"})

    assert answer.status_code == 200
    assert "is not a key" in answer.content.decode()
    assert client.get("/api/v1/studio/project").json()["bpm"] is None


def test_the_sample_page_offers_it_at_the_project_tempo_and_key(client, producer, loop):
    assert (
        "Set a project tempo and key" in client.get(f"/library/samples/{loop.pk}/").content.decode()
    )
    project_update(user=producer, bpm=124, key="F", mode="minor")  # matching stays off

    page = client.get(f"/library/samples/{loop.pk}/").content.decode()

    assert "Download at 124 BPM, F minor" in page
    link = f"/studio/samples/{loop.pk}/file?match=1&amp;format=flac"
    assert link in page
    render = render_request(
        user=producer, sample=loop, bpm=124, key="F", mode="minor", fmt="flac", pitch_drums=False
    )
    render_produce(render_id=str(render.pk))
    answer = client.get(link.replace("&amp;", "&"))
    assert answer.status_code == 200
    assert 'filename="Dusty Drums (124 BPM, F minor).flac"' in answer["Content-Disposition"]
