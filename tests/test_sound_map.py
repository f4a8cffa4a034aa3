"""The sound map: the owner's analysed samples in 2D, nobody else's."""

from __future__ import annotations

import gzip
import json
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
from organise.soundmap import layout, pca_layout
from organise.tasks import layout_map
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer


def _vector(direction: int, seed: int) -> list[float]:
    v = np.zeros(EMBEDDING_DIM)
    v[direction] = 1.0
    v += 0.05 * np.random.default_rng(seed).standard_normal(EMBEDDING_DIM)
    return list(v)


def _clusters(per: int, seed: int = 0) -> np.ndarray:
    """Three timbres (three directions of the embedding), ``per`` slightly different sounds each."""
    rng = np.random.default_rng(seed)
    return np.vstack(
        [np.eye(EMBEDDING_DIM)[k] + rng.normal(0, 0.08, (per, EMBEDDING_DIM)) for k in range(3)]
    )


def _separation(positions: np.ndarray, per: int) -> float:
    """Smallest distance between two clusters' centres over the largest cluster's spread."""
    groups = [positions[k * per : (k + 1) * per] for k in range(3)]
    centres = [g.mean(axis=0) for g in groups]
    spread = max(np.linalg.norm(g - c, axis=1).mean() for g, c in zip(groups, centres, strict=True))
    between = min(
        np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3)
    )
    return between / spread


def test_umap_layout_keeps_alike_sounds_together_and_gives_the_same_map_twice():
    vectors = _clusters(40)
    positions = layout(vectors)
    assert positions.shape == (120, 2)
    assert positions.min() >= 0 and positions.max() <= 1
    assert _separation(positions, 40) > 3
    # Each sound's nearest neighbour on the map is a sound of the same timbre.
    distances = np.linalg.norm(positions[:, None] - positions[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert (distances.argmin(axis=1) // 40 == np.arange(120) // 40).all()
    assert np.array_equal(layout(vectors), positions)  # seeded: same library, same map


def test_a_growing_library_keeps_its_map():
    vectors = _clusters(40)
    before = layout(vectors)
    grown = np.vstack([vectors, _clusters(2, seed=1)])  # six new sounds, two of each timbre
    previous = np.vstack([before, np.full((6, 2), np.nan)])
    after = layout(grown, previous=previous)
    # The known sounds stay about where they were (the map is not turned or rearranged) ...
    for k in range(3):
        group = slice(k * 40, (k + 1) * 40)
        assert np.linalg.norm(after[group].mean(axis=0) - before[group].mean(axis=0)) < 0.15
    # ... and each new one lands among its own kind.
    for k, new in enumerate(after[120:].reshape(3, 2, 2)):
        centre = after[k * 40 : (k + 1) * 40].mean(axis=0)
        others = [after[j * 40 : (j + 1) * 40].mean(axis=0) for j in range(3) if j != k]
        for point in new:
            assert np.linalg.norm(point - centre) < min(np.linalg.norm(point - o) for o in others)


def test_a_tiny_library_is_laid_out_by_principal_components_at_once():
    vectors = _clusters(4)  # 12 sounds: too few for UMAP's neighbours
    positions = layout(vectors)
    assert np.array_equal(positions, pca_layout(vectors.astype(np.float32)))
    assert _separation(positions, 4) > 3
    assert layout(vectors[:1]).tolist() == [[0.5, 0.5]]


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
    # A big library's map is megabytes of JSON: it travels compressed.
    packed = client.get("/api/v1/map", HTTP_ACCEPT_ENCODING="gzip", **bearer(me))
    assert packed["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.content)) == body

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
    # Nothing is laid out inside the request: the answer says a map is on its way.
    assert _map(client, me) == {"points": [], "computing": True}


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


@pytest.mark.django_db
def test_the_map_page_offers_only_your_collections_and_they_take_only_your_sounds(client):
    from tests.factories import CollectionFactory

    me, other = UserFactory(role=Role.PRO), UserFactory(role=Role.PRO)
    mine = CollectionFactory(owner=me, name="Drum picks")
    CollectionFactory(owner=other, name="Their picks <b>")
    theirs = SampleFactory(owner=other, embedding=_vector(0, 1))
    client.force_login(me)
    page = client.get("/organise/map/").content.decode()
    assert "Drum picks" in page and "Their picks" not in page

    # What the lasso sends: someone else's private sample is refused, nothing is added.
    response = client.post(
        f"/api/v1/collections/{mine.pk}/samples",
        {"sample_ids": [str(theirs.pk)]},
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["details"]["sample_ids"] == [str(theirs.pk)]
    assert mine.items.count() == 0


@pytest.mark.django_db
def test_a_slow_map_is_redrawn_less_often_but_never_waits_past_the_visibility_timeout(settings):
    from organise.soundmap import layout_countdown

    me = UserFactory(role=Role.PRO)
    assert layout_countdown(me.pk) == 5  # never drawn: a burst's few seconds
    for n in range(20):
        SampleFactory(owner=me, embedding=_vector(n % 2, n))
    layout_map(me.pk)
    assert layout_countdown(me.pk) >= 5
    cache.set(f"organise:map:{me.pk}:seconds", 30.0)  # as a 100,000-sample library takes
    assert layout_countdown(me.pk) == 60
    cache.set(f"organise:map:{me.pk}:seconds", 600.0)
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert layout_countdown(me.pk) < visibility
