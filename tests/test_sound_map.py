"""The sound map: the owner's analysed samples in 2D, nobody else's."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest.mock import ANY

import numpy as np
import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import Role
from library.analysis import EMBEDDING_DIM
from library.models import Sample, SampleStatus, Visibility
from library.services.analysis import samples_requeue_stuck
from organise.soundmap import layout
from organise.tasks import layout_map
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer


def _vector(direction: int, seed: int) -> list[float]:
    v = np.zeros(EMBEDDING_DIM)
    v[direction] = 1.0
    v += 0.05 * np.random.default_rng(seed).standard_normal(EMBEDDING_DIM)
    return list(v)


def test_layout_keeps_alike_sounds_together_and_is_quick():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.05, (50, EMBEDDING_DIM)) + np.eye(EMBEDDING_DIM)[0]
    b = rng.normal(0, 0.05, (50, EMBEDDING_DIM)) + np.eye(EMBEDDING_DIM)[1]
    positions = layout(np.vstack([a, b]))
    assert positions.min() >= 0 and positions.max() <= 1
    within = np.linalg.norm(positions[:50] - positions[:50].mean(axis=0), axis=1).mean()
    between = np.linalg.norm(positions[:50].mean(axis=0) - positions[50:].mean(axis=0))
    assert between > 3 * within
    started = time.perf_counter()
    layout(rng.standard_normal((10_000, EMBEDDING_DIM)).astype(np.float32))
    assert time.perf_counter() - started < 2.0


def _map(client, user) -> dict:
    response = client.get("/api/v1/map", **bearer(user))
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_map_shows_only_the_owners_analysed_samples(client):
    me, other = UserFactory(role=Role.PRO), UserFactory(role=Role.PRO)
    mine = [SampleFactory(owner=me, category="kick", embedding=_vector(n % 2, n)) for n in range(4)]
    SampleFactory(owner=me, status="pending")  # not analysed: no place yet
    SampleFactory(owner=other, embedding=_vector(0, 9), visibility=Visibility.PUBLIC)
    SampleFactory(owner=other, embedding=_vector(1, 8))

    layout_map(me.pk)
    layout_map(other.pk)
    body = _map(client, me)
    assert body["computing"] is False
    points = body["points"]
    assert {p[0] for p in points} == {str(s.pk) for s in mine}
    assert all(0 <= p[1] <= 1 and 0 <= p[2] <= 1 and p[3] == "kick" for p in points)
    assert len(_map(client, other)["points"]) == 2

    SampleFactory(owner=me, category="snare", embedding=_vector(2, 5))  # a new sample joins
    stale = _map(client, me)
    assert stale["computing"] is True and len(stale["points"]) == 4  # the last map meanwhile
    layout_map(me.pk)
    assert _map(client, me) == {"points": ANY, "computing": False}
    assert len(_map(client, me)["points"]) == 5


@pytest.mark.django_db
def test_a_map_not_drawn_yet_answers_at_once_with_computing(client):
    me = UserFactory(role=Role.PRO)
    for n in range(200):
        SampleFactory(owner=me, embedding=_vector(n % 3, n))
    started = time.perf_counter()
    body = _map(client, me)
    assert time.perf_counter() - started < 1.0
    assert body == {"points": [], "computing": True}


@pytest.mark.django_db
def test_an_empty_library_has_an_empty_map(client):
    me = UserFactory(role=Role.PRO)
    SampleFactory(owner=me, status="pending")
    assert _map(client, me) == {"points": [], "computing": False}


@pytest.mark.django_db
def test_map_page_and_api_run_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    me = UserFactory(role=Role.PRO)
    for n in range(30):
        SampleFactory(owner=me, embedding=_vector(n % 3, n))
    layout_map(me.pk)
    client.force_login(me)
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/map").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/organise/map/").status_code == 200


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_finished_analysis_redraws_the_map_in_the_background(
    celery_worker_process, tmp_path, settings
):
    from django.test import Client

    settings.SAMPLEMIND_ANALYSIS_STALE_SECONDS = 60
    me = UserFactory(role=Role.PRO)
    SampleFactory(owner=me, embedding=_vector(0, 1))
    SampleFactory(owner=me, embedding=_vector(1, 2))
    sample = SampleFactory(
        owner=me,
        status=SampleStatus.ANALYZING,
        analysis_attempts=1,
        analysis_started_at=timezone.now() - timedelta(minutes=5),
    )
    kick = audio.write(tmp_path / "k.wav", audio.kick()).read_bytes()
    sample.file.save("k.wav", ContentFile(kick))
    Sample.objects.filter(pk=sample.pk).update(
        analysis_started_at=timezone.now() - timedelta(minutes=5)
    )
    assert samples_requeue_stuck() == 1  # the worker analyses it, then draws the map

    # Without asking the map (a request would queue a drawing too): the hook must do it.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stored = cache.get(f"organise:map:{me.pk}")
        if stored and str(sample.pk) in {p[0] for p in stored["points"]}:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the map was not drawn after the analysis: {stored}")
    body = _map(Client(), me)
    assert body["computing"] is False
    assert str(sample.pk) in {p[0] for p in body["points"]} and len(body["points"]) == 3
