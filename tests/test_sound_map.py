"""The sound map: the owner's analysed samples in 2D, nobody else's."""

from __future__ import annotations

import time

import numpy as np
import pytest

from accounts.models import Role
from library.analysis import EMBEDDING_DIM
from library.models import Visibility
from organise.soundmap import layout
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


@pytest.mark.django_db
def test_map_shows_only_the_owners_analysed_samples(client):
    me, other = UserFactory(role=Role.PRO), UserFactory(role=Role.PRO)
    mine = [SampleFactory(owner=me, category="kick", embedding=_vector(n % 2, n)) for n in range(4)]
    SampleFactory(owner=me, status="pending")  # not analysed: no place yet
    SampleFactory(owner=other, embedding=_vector(0, 9), visibility=Visibility.PUBLIC)
    SampleFactory(owner=other, embedding=_vector(1, 8))

    response = client.get("/api/v1/map", **bearer(me))
    assert response.status_code == 200
    points = response.json()["points"]
    assert {p[0] for p in points} == {str(s.pk) for s in mine}
    assert all(0 <= p[1] <= 1 and 0 <= p[2] <= 1 and p[3] == "kick" for p in points)

    SampleFactory(owner=me, category="snare", embedding=_vector(2, 5))  # a new sample joins
    assert len(client.get("/api/v1/map", **bearer(me)).json()["points"]) == 5


@pytest.mark.django_db
def test_an_empty_library_has_an_empty_map(client):
    me = UserFactory(role=Role.PRO)
    SampleFactory(owner=me, status="pending")
    response = client.get("/api/v1/map", **bearer(me))
    assert response.status_code == 200
    assert response.json() == {"points": []}


@pytest.mark.django_db
def test_map_page_and_api_run_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    me = UserFactory(role=Role.PRO)
    for n in range(30):
        SampleFactory(owner=me, embedding=_vector(n % 3, n))
    client.force_login(me)
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/map").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/organise/map/").status_code == 200
