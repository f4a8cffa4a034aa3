"""Sound similarity on synthesised material, through the real analyser and the API.

A small library of kicks, snares, hi-hats, chords and noise bursts is
synthesised, each sound analysed by ``library.analysis`` and stored with its
timbre embedding; "more like this" and search by sound must then find like
with like.
"""

from __future__ import annotations

import numpy as np
import pytest

from accounts.models import Role
from library import analysis
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer

pytestmark = pytest.mark.django_db


def kick(end_hz: float, sweep: float, decay: float, seconds: float = 0.5) -> np.ndarray:
    """A kick: a sine sweeping down to ``end_hz`` at rate ``sweep``, decaying at ``decay``."""
    t = np.arange(int(seconds * audio.SR)) / audio.SR
    freq = end_hz + (150 - end_hz) * np.exp(-t * sweep)
    return (0.9 * np.sin(2 * np.pi * np.cumsum(freq) / audio.SR) * np.exp(-t * decay)).astype(
        np.float32
    )


SOUNDS = {
    "kick": [kick(45, 25, 8), kick(55, 30, 10), kick(40, 20, 6), kick(60, 35, 12)],
    "snare": [audio.snare(seed=seed) * gain for seed, gain in ((0, 1), (1, 0.8), (2, 0.6))],
    "hihat": [audio.hihat(seed=seed) for seed in (1, 2, 3)],
    "keys": [audio.chord(root, minor=minor) for root, minor in ((57, True), (60, False))],
    "fx": [audio.noise(seconds=0.8, seed=seed) for seed in (4, 5)],
}


def embedding_of(samples: np.ndarray, tmp_path, name: str) -> list[float]:
    path = audio.write(tmp_path / f"{name}.wav", samples)
    return analysis.analyze_audio(analysis.decode_audio(path))["embedding"]


@pytest.fixture
def library(tmp_path):
    """The synthesised sounds as analysed samples: half the caller's, half public ones."""
    me = UserFactory(role=Role.PRO)
    other = UserFactory(role=Role.PRO)
    samples = {}
    for category, sounds in SOUNDS.items():
        for i, sound in enumerate(sounds):
            name = f"{category} {i}"
            samples[name] = SampleFactory(
                owner=me if i % 2 else other,
                visibility="private" if i % 2 else "public",
                name=name,
                category=category,
                embedding=embedding_of(sound, tmp_path, name.replace(" ", "_")),
            )
    return me, samples


def categories(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [item["category"] for item in response.json()["results"]]


def test_a_kicks_nearest_neighbours_are_kicks(client, library):
    me, samples = library

    for i in range(len(SOUNDS["kick"])):
        response = client.get(
            f"/api/v1/audio/{samples[f'kick {i}'].pk}/similar", {"k": 3}, **bearer(me)
        )

        assert categories(response) == ["kick"] * 3
        results = response.json()["results"]
        assert str(samples[f"kick {i}"].pk) not in {item["id"] for item in results}
        distances = [item["score_parts"]["distance"] for item in results]
        assert distances == sorted(distances)


def test_other_kinds_find_their_own_kind(client, library):
    me, samples = library

    for kind in ("snare", "hihat"):
        response = client.get(
            f"/api/v1/audio/{samples[f'{kind} 0'].pk}/similar", {"k": 2}, **bearer(me)
        )
        assert categories(response) == [kind, kind]


def test_similar_takes_the_search_filters(client, library):
    me, samples = library

    response = client.get(
        f"/api/v1/audio/{samples['kick 0'].pk}/similar",
        {"k": 3, "category": "snare,hihat"},
        **bearer(me),
    )

    assert len(categories(response)) == 3
    assert set(categories(response)) <= {"snare", "hihat"}


def test_search_by_sound_finds_kicks_for_a_new_kick(client, library, tmp_path):
    me, _samples = library
    clip = audio.write(tmp_path / "my kick.wav", kick(50, 28, 9, seconds=0.4))

    with open(clip, "rb") as handle:
        response = client.post("/api/v1/search/by-sound", {"file": handle, "k": 3}, **bearer(me))

    assert categories(response) == ["kick"] * 3
    with open(clip, "rb") as handle:
        filtered = client.post(
            "/api/v1/search/by-sound?category=snare", {"file": handle, "k": 2}, **bearer(me)
        )
    assert categories(filtered) == ["snare", "snare"]


def test_search_by_sound_needs_a_pro_plan(client, tmp_path):
    free = UserFactory(role=Role.FREE)
    clip = audio.write(tmp_path / "kick.wav", kick(50, 28, 9))

    with open(clip, "rb") as handle:
        response = client.post("/api/v1/search/by-sound", {"file": handle}, **bearer(free))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
