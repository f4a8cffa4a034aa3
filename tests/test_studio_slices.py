"""Loop slicing: a loop cut at its onsets, each slice a sample linked to the loop."""

from __future__ import annotations

import json

import numpy as np
import pytest

from accounts.models import Role
from library.models import Sample
from library.services.analysis import sample_analyze
from studio.models import Slice
from tests import audio
from tests.factories import UserFactory, bearer
from tests.studio_helpers import analysed_sample

pytestmark = pytest.mark.django_db


def four_on_the_floor(bpm: float = 120.0, bars: int = 1) -> np.ndarray:
    """A kick on every beat, each hit a little softer or harder, as played."""
    beat = 60.0 / bpm
    out = np.zeros(int(bars * 4 * beat * audio.SR), dtype=np.float32)
    hit = audio.kick(seconds=beat * 0.9)
    for n, gain in enumerate([0.95, 0.8, 0.9, 0.75] * bars):
        start = int(n * beat * audio.SR)
        out[start : start + hit.size] += gain * hit
    return out


@pytest.fixture
def producer():
    return UserFactory(role=Role.PRO)


@pytest.fixture
def loop(producer, tmp_path) -> Sample:
    path = audio.write(tmp_path / "Four Floor Kick Loop 120.wav", four_on_the_floor(bars=2))
    sample = analysed_sample(producer, path)
    if not sample.is_loop:  # the producer's word, as they would correct it
        Sample.objects.filter(pk=sample.pk).update(is_loop=True)
        sample.refresh_from_db()
    return sample


def test_the_cut_points_are_the_beats(client, producer, loop):
    answer = client.get(f"/api/v1/audio/{loop.pk}/slices", **bearer(producer))

    assert answer.status_code == 200
    points = answer.json()["points"]
    assert points == pytest.approx([0.5 * n for n in range(8)], abs=0.03)
    assert answer.json()["slices"] == []


def test_slicing_a_four_on_the_floor_loop_gives_kick_slices_linked_to_it(client, producer, loop):
    answer = client.post(
        f"/api/v1/audio/{loop.pk}/slices", "{}", content_type="application/json", **bearer(producer)
    )

    assert answer.status_code == 201, answer.content
    slices = list(Slice.objects.filter(loop=loop).select_related("sample"))
    assert len(slices) == 8  # two bars
    # The second bar repeats the first: a slice cut exactly alike is the same sample.
    for item in slices:
        assert item.sample.owner == producer and "slice" in item.sample.tags
        assert item.end - item.start == pytest.approx(0.5, abs=0.03)
    for sample in {item.sample for item in slices}:
        assert sample_analyze(sample_id=str(sample.pk)) == "ready"
        sample.refresh_from_db()
        assert sample.category == "kick" and not sample.is_loop
    body = answer.json()
    assert [s["index"] for s in body["slices"]] == list(range(8))


def test_slicing_at_chosen_points_keeps_those(client, producer, loop):
    body = json.dumps({"points": [0.0, 0.5, 1.0, 1.5]})

    answer = client.post(
        f"/api/v1/audio/{loop.pk}/slices", body, content_type="application/json", **bearer(producer)
    )

    assert answer.status_code == 201
    assert [round(s.start, 2) for s in Slice.objects.filter(loop=loop)] == [0.0, 0.5, 1.0, 1.5]
    assert Slice.objects.filter(loop=loop).last().end == pytest.approx(loop.duration, abs=0.01)


def test_another_persons_loop_is_404_and_one_shots_are_not_sliced(client, producer, loop, tmp_path):
    stranger = UserFactory(role=Role.PRO)
    assert client.get(f"/api/v1/audio/{loop.pk}/slices", **bearer(stranger)).status_code == 404
    kick = analysed_sample(producer, audio.write(tmp_path / "kick.wav", audio.kick()))

    answer = client.post(
        f"/api/v1/audio/{kick.pk}/slices", "{}", content_type="application/json", **bearer(producer)
    )

    assert answer.status_code == 400
    assert not Slice.objects.exists()


def test_slices_count_against_the_daily_uploads(client, loop):
    free = loop.owner
    free.role = Role.FREE  # 10 uploads a day; the loop was one
    free.save()

    answer = client.post(
        f"/api/v1/audio/{loop.pk}/slices",
        json.dumps({"points": [0.1 * n for n in range(10)]}),
        content_type="application/json",
        **bearer(free),
    )

    assert answer.status_code == 403
    assert answer.json()["error"]["details"]["quota"] == "uploads_per_day"
    assert not Slice.objects.exists() and Sample.objects.count() == 1
