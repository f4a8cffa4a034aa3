"""The project tempo and key: remembered per account, read in every spelling of a key."""

from __future__ import annotations

import json

import pytest

from tests.factories import UserFactory, bearer

pytestmark = pytest.mark.django_db
URL = "/api/v1/studio/project"


def put(client, user, body: dict, method: str = "put"):
    send = getattr(client, method)
    return send(URL, json.dumps(body), content_type="application/json", **bearer(user))


def test_a_new_account_has_no_tempo_or_key_and_matching_off(client):
    user = UserFactory()

    body = client.get(URL, **bearer(user)).json()

    assert body["bpm"] is None and body["key"] is None and body["matching"] is False
    assert body["label"] == "No tempo or key set"


def test_tempo_and_key_are_remembered_per_account(client):
    producer, other = UserFactory(), UserFactory()

    answer = put(client, producer, {"bpm": 124, "key": "F minor", "matching": True})

    assert answer.status_code == 200
    body = client.get(URL, **bearer(producer)).json()
    assert (body["bpm"], body["key"], body["mode"], body["matching"]) == (124, "F", "minor", True)
    assert body["label"] == "124 BPM, F minor" and body["camelot"] == "4A"
    assert client.get(URL, **bearer(other)).json()["bpm"] is None


@pytest.mark.parametrize(
    ("sent", "key", "mode"),
    [
        ({"key": "Bb"}, "A#", "major"),
        ({"key": "F#m"}, "F#", "minor"),
        ({"key": "8A"}, "A", "minor"),
    ],
)
def test_keys_are_read_as_people_write_them(client, sent, key, mode):
    body = put(client, UserFactory(), sent).json()

    assert (body["key"], body["mode"]) == (key, mode)


def test_patch_changes_only_what_it_sends_and_null_clears(client):
    user = UserFactory()
    put(client, user, {"bpm": 90, "key": "C", "mode": "minor"})

    body = put(client, user, {"bpm": 128}, method="patch").json()
    assert (body["bpm"], body["key"], body["mode"]) == (128, "C", "minor")

    body = put(client, user, {"key": None}, method="patch").json()
    assert (body["bpm"], body["key"], body["mode"]) == (128, None, None)


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"bpm": 5}, "bpm"),
        ({"bpm": "fast"}, "bpm"),
        ({"key": "H"}, "key"),
        ({"key": "Am", "mode": "major"}, "mode"),
        ({"mode": "minor"}, "mode"),
        ({"matching": "perhaps"}, "matching"),
    ],
)
def test_bad_values_answer_400_naming_the_field(client, sent, field):
    user = UserFactory()

    answer = put(client, user, sent)

    assert answer.status_code == 400
    assert field in answer.json()["error"]["details"]


def test_signed_out_callers_get_401(client):
    assert client.get(URL).status_code == 401


def test_the_answer_carries_the_renders_key_shifts_for_the_player(client):
    user = UserFactory()
    assert client.get(URL, **bearer(user)).json()["key_shifts"] is None

    shifts = put(client, user, {"key": "Am"}).json()["key_shifts"]

    # C minor goes down to A minor; C major is A minor's relative (no shift); a C of no
    # known mode goes to A, the nearer way (down); never more than a tritone either way.
    assert shifts["minor"]["C"] == -3
    assert shifts["major"]["C"] == 0
    assert shifts["unknown"]["C"] == -3
    assert shifts["minor"]["D#"] == 6 and shifts["minor"]["E"] == 5
    assert all(-6 <= n <= 6 for by_pitch in shifts.values() for n in by_pitch.values())
