"""The search API: ranking and highlights, fuzzy words, filters and facets, autocomplete,
hybrid search, plan permissions, the privacy rule through every route, and a fixed
number of queries whatever the page size."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from library import analysis
from library.models import CollectionItem
from tests import audio
from tests.factories import CollectionFactory, SampleFactory, UserFactory, bearer

pytestmark = pytest.mark.django_db

DIM = 64


def unit(*weights: tuple[int, float]) -> list[float]:
    v = np.zeros(DIM)
    for axis, weight in weights:
        v[axis] += weight
    return (v / np.linalg.norm(v)).tolist()


def wav_bytes(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, audio.SR, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


@pytest.fixture
def studio():
    return UserFactory(role=Role.STUDIO)


@pytest.fixture
def get(client, studio):
    """GET as the studio user (every search permission), returning the response."""

    def _get(path: str, user=None, **params):
        return client.get(path, params, **bearer(user or studio))

    return _get


def result_names(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [item["name"] for item in response.json()["results"]]


def test_search_ranks_names_first_and_returns_highlighted_snippets(get, studio):
    SampleFactory(owner=studio, name="Soft texture", description="Kick <i>layered</i> & pad")
    SampleFactory(owner=studio, name="Kick 1", tags=["punchy"], key="A", mode="minor")

    response = get("/api/v1/search", q="kick")

    body = response.json()
    assert result_names(response) == ["Kick 1", "Soft texture"]
    assert body["count"] == 2 and body["count_is_exact"] and body["fuzzy"] is False
    first, second = body["results"]
    assert first["highlight"]["name"] == "<mark>Kick</mark> 1"
    assert second["highlight"]["description"] == "<mark>Kick</mark> layered &amp; pad"
    assert first["score"] == first["score_parts"]["text_rank"] > second["score"]
    assert first["score_parts"]["text_position"] == 1
    assert first["camelot"] == "8A" and first["bpm"] is None and "status" in first


def test_search_pages_link_to_each_other(get, studio):
    for i in range(5):
        SampleFactory(owner=studio, name=f"Snare {i}")

    first = get("/api/v1/search", q="snare", page_size=2).json()
    last = get("/api/v1/search", q="snare", page_size=2, page=3).json()

    assert first["count"] == 5 and len(first["results"]) == 2
    assert "page=2" in first["next"] and first["previous"] is None
    assert last["next"] is None and "page=2" in last["previous"]
    assert len(last["results"]) == 1


def test_more_like_this_pages_through_the_neighbours(get, studio):
    source = SampleFactory(owner=studio, name="Source", embedding=unit((0, 1.0)))
    for i in range(5):
        SampleFactory(owner=studio, name=f"Near {i}", embedding=unit((0, 1.0), (1, 0.1 * (i + 1))))

    pages = [
        get("/api/v1/search", similar_to=str(source.pk), page_size=2, page=n).json()
        for n in (1, 2, 3)
    ]

    assert [item["name"] for page in pages for item in page["results"]] == [
        f"Near {i}" for i in range(5)
    ]
    assert "page=2" in pages[0]["next"] and not pages[0]["count_is_exact"]
    assert "page=3" in pages[1]["next"]
    assert pages[2]["next"] is None and pages[2]["count"] == 5 and pages[2]["count_is_exact"]


def test_misspelt_words_fall_back_to_near_spellings(get, studio):
    SampleFactory(owner=studio, name="Deep kick")

    response = get("/api/v1/search", q="deep kik")

    assert result_names(response) == ["Deep kick"]
    assert response.json()["fuzzy"] is True
    assert "kick" in response.json()["expanded"]["kik"]
    assert result_names(get("/api/v1/search", q="deep kik", fuzzy="off")) == []


def test_filters_and_facets_over_the_api(get, studio):
    SampleFactory(
        owner=studio,
        name="Loop A",
        key="A",
        mode="minor",
        bpm=124,
        category="drum_loop",
        is_loop=True,
        tags=["dusty", "swing"],
        loudness_lufs=-9,
    )
    SampleFactory(
        owner=studio,
        name="Loop C",
        key="C",
        mode="major",
        bpm=96,
        category="music_loop",
        is_loop=True,
        tags=["dusty"],
        loudness_lufs=-14,
    )
    SampleFactory(
        owner=studio,
        name="Loop F#",
        key="F#",
        mode="major",
        bpm=140,
        is_loop=True,
        category="music_loop",
        loudness_lufs=-20,
    )
    SampleFactory(owner=studio, name="Hit", category="kick", is_loop=False, duration=0.3)

    assert set(result_names(get("/api/v1/search", key="8A", compatible="true"))) == {
        "Loop A",
        "Loop C",
    }
    assert result_names(get("/api/v1/search", key="Am")) == ["Loop A"]
    assert result_names(get("/api/v1/search", key="Gb")) == ["Loop F#"]
    assert set(result_names(get("/api/v1/search", category="kick,drum_loop"))) == {"Loop A", "Hit"}
    assert result_names(get("/api/v1/search", tags="Dusty,swing")) == ["Loop A"]
    assert result_names(get("/api/v1/search", is_loop="false")) == ["Hit"]
    assert result_names(get("/api/v1/search", bpm_min=100, bpm_max=130)) == ["Loop A"]
    assert result_names(get("/api/v1/search", loudness_min=-15, loudness_max=-10)) == ["Loop C"]
    assert result_names(get("/api/v1/search", duration_max=0.5)) == ["Hit"]

    body = get("/api/v1/search", q="loop", category="music_loop", facets="true").json()
    assert {row["name"] for row in body["results"]} == {"Loop C", "Loop F#"}
    facets = body["facets"]
    assert {f["value"]: f["count"] for f in facets["category"]} == {
        "music_loop": 2,
        "drum_loop": 1,
    }
    assert {f["label"]: f["count"] for f in facets["key"]} == {
        "C major (8B)": 1,
        "F# major (2B)": 1,
    }
    assert {f["label"]: f["count"] for f in facets["bpm"]} == {"80–99": 1, "140–159": 1}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"key": "H"}, "key"),
        ({"compatible": "true"}, "compatible"),
        ({"category": "kick,banjo"}, "category"),
        ({"bpm_min": 140, "bpm_max": 120}, "bpm_min"),
        ({"page_size": 500}, "page_size"),
        ({"ordering": "owner__password"}, "ordering"),
        ({"similar_to": "not-a-uuid"}, "similar_to"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(get, params, field):
    response = get("/api/v1/search", **params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]


def test_autocomplete_suggests_words_from_names_and_tags(get, studio):
    SampleFactory(owner=studio, name="Kick 1", tags=["dark"])
    SampleFactory(owner=studio, name="Kick 2")
    SampleFactory(owner=studio, name="Kalimba", tags=["dark"])

    body = get("/api/v1/search/autocomplete", q="dark k").json()

    assert body["suggestions"] == [
        {"text": "dark kick", "word": "kick", "samples": 1, "fuzzy": False},
        {"text": "dark kalimba", "word": "kalimba", "samples": 1, "fuzzy": False},
    ]
    fuzzy = get("/api/v1/search/autocomplete", q="kik").json()["suggestions"]
    assert fuzzy[0] == {"text": "kick", "word": "kick", "samples": 2, "fuzzy": True}


def test_hybrid_search_fuses_text_and_sound_with_score_parts(get, studio):
    source = SampleFactory(owner=studio, name="Source", embedding=unit((0, 1.0)))
    SampleFactory(owner=studio, name="Kick far", tags=["kick"], embedding=unit((9, 1.0)))
    SampleFactory(owner=studio, name="Kick near", embedding=unit((0, 1.0), (1, 0.1)))
    SampleFactory(owner=studio, name="Thud", embedding=unit((0, 1.0), (1, 0.2)))

    response = get("/api/v1/search", q="kick", similar_to=str(source.pk))

    names = result_names(response)
    assert names[0] == "Kick near" and "Source" not in names
    assert set(names) == {"Kick near", "Kick far", "Thud"}
    parts = response.json()["results"][0]["score_parts"]
    assert set(parts) >= {"text_rank", "text_position", "distance", "vector_position"}
    assert parts["vector_position"] == 1 and parts["text_position"] == 2
    assert response.json()["results"][0]["score"] == pytest.approx(
        parts["text_rrf"] + parts["vector_rrf"]
    )


def test_hybrid_search_needs_a_studio_plan(client):
    pro = UserFactory(role=Role.PRO)
    sample = SampleFactory(owner=pro, name="Kick", embedding=unit((0, 1.0)))

    response = client.get(
        "/api/v1/search", {"q": "kick", "similar_to": str(sample.pk)}, **bearer(pro)
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "search:advanced" in response.json()["error"]["message"]


def test_similarity_of_an_unanalysed_sample_is_a_clear_conflict(get, studio):
    sample = SampleFactory(owner=studio, name="Fresh upload", status="pending")

    response = get(f"/api/v1/audio/{sample.pk}/similar")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_analysed"


def test_search_by_sound_refuses_what_is_not_audio(client, studio):
    response = client.post(
        "/api/v1/search/by-sound",
        {"file": SimpleUploadedFile("kick.wav", b"not audio at all" * 100)},
        **bearer(studio),
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_audio"


def test_search_by_sound_refuses_oversized_clips(client, studio):
    clip = SimpleUploadedFile("kick.wav", wav_bytes(audio.kick()))
    with override_settings(SAMPLEMIND_MAX_UPLOAD_BYTES=1000):
        response = client.post("/api/v1/search/by-sound", {"file": clip}, **bearer(studio))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_privacy_rule_through_every_route(client, get, studio, tmp_path):
    """Another user's private sample never shows, whichever way one searches."""
    other = UserFactory(role=Role.STUDIO)
    clip = audio.write(tmp_path / "clip.wav", audio.kick())
    # Every sample sounds exactly like the clip: only the privacy rule tells them apart.
    embedding = analysis.analyze_audio(analysis.decode_audio(clip))["embedding"]
    secret = SampleFactory(
        owner=other,
        name="Secret kick",
        tags=["kick", "secretword"],
        category="kick",
        bpm=120,
        key="A",
        mode="minor",
        embedding=embedding,
    )
    SampleFactory(
        owner=other,
        name="Public kick",
        visibility="public",
        category="kick",
        bpm=120,
        key="A",
        mode="minor",
        embedding=embedding,
    )
    mine = SampleFactory(
        owner=studio,
        name="My kick",
        category="kick",
        bpm=120,
        key="A",
        mode="minor",
        embedding=embedding,
    )
    secret_collection = CollectionFactory(owner=other, name="Hidden")
    CollectionItem.objects.create(collection=secret_collection, sample=secret)
    visible = {"Public kick", "My kick"}

    # text, fuzzy, browse, filters
    assert set(result_names(get("/api/v1/search", q="kick"))) == visible
    assert result_names(get("/api/v1/search", q="secretword")) == []
    misspelt = get("/api/v1/search", q="secretwrd", fuzzy="on").json()
    assert (misspelt["results"], misspelt["expanded"]) == ([], {})
    # another's private word is no near spelling either, not even of a visible word
    SampleFactory(owner=other, name="Kicking loop", tags=["kicking"])
    assert not any(
        "kicking" in near
        for q in ("kickin", "kickng kick", "kik")
        for near in get("/api/v1/search", q=q, fuzzy="on").json()["expanded"].values()
    )
    hybrid_misspelt = get(
        "/api/v1/search", q="secretwrd", fuzzy="on", similar_to=str(mine.pk)
    ).json()
    assert "secretword" not in str(hybrid_misspelt["expanded"])
    assert set(result_names(get("/api/v1/search"))) == visible
    assert set(result_names(get("/api/v1/search", category="kick", key="Am"))) == visible
    assert result_names(get("/api/v1/search", collection=secret_collection.pk)) == []
    # facets count only what the caller can see
    facets = get("/api/v1/search", q="kick", facets="true").json()["facets"]
    assert [(f["value"], f["count"]) for f in facets["category"]] == [("kick", 2)]
    assert (
        sum(f["count"] for f in get("/api/v1/search", facets="true").json()["facets"]["bpm"]) == 2
    )
    # autocomplete
    assert get("/api/v1/search/autocomplete", q="secr").json()["suggestions"] == []
    assert get("/api/v1/search/autocomplete", q="secretwrd").json()["suggestions"] == []
    kick_suggestions = get("/api/v1/search/autocomplete", q="kic").json()["suggestions"]
    assert [(s["word"], s["samples"]) for s in kick_suggestions] == [("kick", 2)]
    # more like this, hybrid
    assert set(result_names(get(f"/api/v1/audio/{mine.pk}/similar"))) == {"Public kick"}
    assert set(
        result_names(get("/api/v1/search", q="kick", similar_to=str(mine.pk)))
    ) == visible - {"My kick"}
    assert get(f"/api/v1/audio/{secret.pk}/similar").status_code == 404
    assert get("/api/v1/search", q="kick", similar_to=str(secret.pk)).status_code == 404
    # by sound
    with open(clip, "rb") as handle:
        response = client.post("/api/v1/search/by-sound", {"file": handle}, **bearer(studio))
    assert set(result_names(response)) == visible


# Uncached: facets asked twice with other page sizes would come from the cache (search/cache.py).
@override_settings(SEARCH_CACHE_SECONDS=0)
def test_a_search_runs_the_same_queries_whatever_the_page_size(client, studio):
    other = UserFactory()
    for i in range(40):
        owner = studio if i % 2 else other
        SampleFactory(
            owner=owner,
            name=f"Kick {i}",
            visibility="public",
            category="kick",
            description="A kick drum",
            tags=["kick", f"t{i}"],
            embedding=unit((0, 1.0), (1 + i % 20, 0.3)),
        )
    source = SampleFactory(owner=studio, name="Source", embedding=unit((0, 1.0)))

    headers = bearer(studio)
    client.get("/api/v1/search", **headers)  # the caller's rate limit settings are now cached

    def count(params: dict) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/search", params, **headers)
        assert response.status_code == 200
        return len(queries), len(response.json()["results"])

    for params in (
        {"q": "kick", "facets": "true"},
        {"q": "kik"},  # fuzzy
        {"category": "kick"},  # filters only
        {"q": "kick", "similar_to": str(source.pk)},  # hybrid
        {"similar_to": str(source.pk)},  # more like this, paged
    ):
        small, small_results = count({**params, "page_size": 2})
        large, large_results = count({**params, "page_size": 40})
        assert (small_results, large_results) == (2, 40), params
        assert small == large, params


def test_query_count_has_a_fixed_ceiling(client, studio, django_assert_max_num_queries):
    for i in range(60):
        SampleFactory(owner=studio, name=f"Snare {i}", tags=["snare"], embedding=unit((i, 1.0)))

    with django_assert_max_num_queries(8):
        response = client.get(
            "/api/v1/search", {"q": "snare", "page_size": 60, "facets": "true"}, **bearer(studio)
        )
    assert len(response.json()["results"]) == 60
