"""Query understanding: what producers type ("hh", "120 bpm", "dark pad in A minor") finds
what it means, shown as chips that can be removed; names split as they are written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from search.filters import SearchFilters
from search.understanding import understand
from tests.factories import SampleFactory, UserFactory, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio():
    return UserFactory(role=Role.STUDIO)


@pytest.fixture
def library(studio):
    """A small library whose names mostly do not say what the analysis knows."""
    made = [
        ("Crash Bright", {"category": "cymbal"}),
        ("Ride Bell", {"category": "cymbal"}),
        ("Splashy", {"category": "cymbal"}),
        ("Closed 1", {"category": "hihat"}),
        ("Open Tss", {"category": "hihat"}),
        ("kick_hard01", {"category": "kick"}),
        ("kick_soft02", {"category": "kick"}),
        ("Boom", {"category": "kick"}),
        ("Groove A", {"category": "drum_loop", "is_loop": True, "bpm": 120.0}),
        ("Groove B", {"category": "drum_loop", "is_loop": True, "bpm": 95.0}),
        ("Groove C", {"category": "drum_loop", "is_loop": True, "bpm": 140.0}),
        ("Chords Cm", {"category": "music_loop", "is_loop": True, "key": "C", "mode": "minor"}),
        ("Stab Cm", {"category": "synth", "is_loop": False, "key": "C", "mode": "minor"}),
        ("Chords C", {"category": "music_loop", "is_loop": True, "key": "C", "mode": "major"}),
        ("Moody", {"category": "pad", "key": "A", "mode": "minor", "tags": ["dark"]}),
        ("Glow", {"category": "pad", "key": "A", "mode": "minor", "tags": ["bright"]}),
        ("Night", {"category": "pad", "key": "D", "mode": "minor", "tags": ["dark"]}),
        ("Dark Keys", {"category": "keys", "key": "A", "mode": "minor"}),
    ]
    for name, fields in made:
        SampleFactory(owner=studio, name=name, **fields)
    return studio


def search(client, user, q: str, **params) -> tuple[set[str], dict]:
    response = client.get("/api/v1/search", {"q": q, **params}, **bearer(user))
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    return {item["name"] for item in body["results"]}, body


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("cymbal", {"Crash Bright", "Ride Bell", "Splashy"}),
        ("hh", {"Closed 1", "Open Tss"}),
        ("120 bpm", {"Groove A"}),
        ("120bpm", {"Groove A"}),
        ("90-100 bpm", {"Groove B"}),
        ("C minor", {"Chords Cm", "Stab Cm"}),
        ("Cm loop", {"Chords Cm"}),
        ("kick_hard01", {"kick_hard01"}),
        ("dark pad in A minor", {"Moody"}),
    ],
)
def test_what_producers_type_finds_what_it_means(client, library, q, expected):
    names, body = search(client, library, q)
    assert names == expected
    if q != "kick_hard01":
        assert body["understood"], "the reading is reported, for its chip"


def test_a_reading_can_be_undone_and_the_phrase_searched_as_words(client, library):
    names, body = search(client, library, "cymbal")
    assert [r["label"] for r in body["understood"]] == ["Category: cymbal"]
    names, body = search(client, library, "cymbal", literal="cymbal")
    assert names == set() and body["understood"] == []


def test_a_filter_the_request_sets_wins_over_a_reading(client, library):
    names, body = search(client, library, "hh", category="cymbal")
    # "hh" stays a word; no cymbal is named hh, so nothing is found and nothing was read.
    assert body["understood"] == []


def test_the_search_page_shows_readings_as_removable_chips(client, library):
    client.force_login(library)
    content = client.get(reverse("search:search"), {"q": "hh 120 bpm"}).content.decode()
    # Nothing is both a hihat and 120 BPM: the words are searched as words instead.
    assert "Category: hihat" not in content
    content = client.get(reverse("search:search"), {"q": "dark pad in A minor"}).content.decode()
    assert "Category: pad (“pad”)" in content and "Key: A minor (“A minor”)" in content
    assert "literal=pad" in content
    assert "Moody" in content and "Glow" not in content


def test_similar_spellings_are_mentioned_only_when_a_spelling_changed(client, library):
    client.force_login(library)
    content = client.get(reverse("search:search"), {"q": "moodyy"}).content.decode()
    assert "similar spellings (moodyy → moody)" in content
    content = client.get(reverse("search:search"), {"q": "moody", "fuzzy": "on"}).content.decode()
    assert "similar spellings" not in content


@pytest.mark.parametrize(
    ("text", "left", "fields"),
    [
        ("hh 120 bpm", "", {"categories": ("hihat",), "bpm_min": 119.0, "bpm_max": 121.0}),
        ("vox chop", "chop", {"categories": ("vocal",)}),
        ("bd 808", "", {"categories": ("kick", "bass")}),
        ("perc loop", "", {"categories": ("percussion",), "is_loop": True}),
        ("F# one-shot", "", {"key": "F#", "is_loop": False}),
        ("8A pad", "", {"key": "A", "mode": "minor", "categories": ("pad",)}),
        ("a lead in Bb", "lead", {"key": "A#"}),
        ("am i dreaming", "am i dreaming", {}),
    ],
)
def test_words_read_as_filters(text, left, fields):
    understood = understand(text)
    assert understood.text == left
    assert understood.filters == SearchFilters(**fields)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("KickHard01", {"KickHard01", "kick_hard01"}),
        ("kickhard", {"KickHard01"}),
        ("hard 01", {"KickHard01", "kick_hard01"}),
        ("snare-tight02", {"snare-tight02"}),
        ("tight", {"snare-tight02", "Tight.Rim.03"}),
        ("rim 03", {"Tight.Rim.03"}),
    ],
)
def test_names_split_on_underscores_hyphens_dots_and_camel_case(client, studio, q, expected):
    for name in ("KickHard01", "kick_hard01", "snare-tight02", "Tight.Rim.03"):
        SampleFactory(owner=studio, name=name, category="other")
    names, _body = search(client, studio, q)
    assert names == expected


def test_words_that_repeat_a_filter_already_set_are_not_searched_as_words(client, library):
    # A facet link keeps the words in the box and adds the key they name.
    names, body = search(client, library, "dark pad in A minor", key="A", mode="minor")
    assert names == {"Moody"}
    assert [r["label"] for r in body["understood"]] == ["Category: pad"]
