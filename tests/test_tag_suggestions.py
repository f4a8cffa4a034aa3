"""Tag suggestions learned from the owner's own tagged samples: shown, accepted, rejected."""

from __future__ import annotations

import numpy as np
import pytest

from accounts.models import Role
from library.analysis import EMBEDDING_DIM
from library.models import Sample, Visibility
from organise.suggestions import name_words, rank
from tests.factories import SampleFactory, UserFactory, bearer


def _vector(direction: int, jitter: float = 0.0, seed: int = 0) -> list[float]:
    v = np.zeros(EMBEDDING_DIM)
    v[direction] = 1.0
    v += jitter * np.random.default_rng(seed).standard_normal(EMBEDDING_DIM)
    return list(v / np.linalg.norm(v))


@pytest.fixture
def producer():
    return UserFactory(role=Role.PRO)


@pytest.fixture
def library(producer):
    """Dusty kicks near direction 0, bright hats near direction 1."""
    for n in range(4):
        SampleFactory(
            owner=producer,
            category="kick",
            tags=["dusty", "drums"],
            embedding=_vector(0, 0.1, seed=n),
        )
        SampleFactory(
            owner=producer,
            category="hihat",
            tags=["bright", "drums"],
            embedding=_vector(1, 0.1, seed=10 + n),
        )
    return producer


def _url(sample) -> str:
    return f"/api/v1/audio/{sample.pk}/tag-suggestions"


def test_ranking_weighs_neighbours_category_and_name_words():
    found = rank(
        neighbours=[(0.05, ["dusty"]), (0.1, ["dusty", "vinyl"]), (0.45, ["bright"])],
        category_tags={"drums": 3},
        category_size=3,
        name="Lofi_Kick",
        vocabulary=["dusty", "vinyl", "bright", "drums", "lofi"],
        exclude=["vinyl"],
    )
    # dusty: 0.9 + 0.8 from two close neighbours; lofi: 1.5 from the name; drums: 0.6 (category)
    assert [s.tag for s in found] == ["dusty", "lofi", "drums"]
    assert name_words("BD_DustyKick 808") == {"bd", "dusty", "kick", "808"}


@pytest.mark.django_db
def test_a_new_kick_is_offered_its_neighbours_tags(client, library):
    new = SampleFactory(owner=library, category="kick", embedding=_vector(0, 0.1, seed=99))
    response = client.get(_url(new), **bearer(library))
    assert response.status_code == 200
    tags = [s["tag"] for s in response.json()]
    assert set(tags[:2]) == {"dusty", "drums"}
    assert "bright" not in tags
    assert set(response.json()[0]["reasons"]) == {
        "sounds like samples tagged so",
        "common in its category",
    }


@pytest.mark.django_db
def test_accept_adds_the_tag_and_reject_is_never_offered_again(client, library):
    new = SampleFactory(owner=library, category="kick", embedding=_vector(0, 0.1, seed=99))
    accepted = client.post(
        _url(new),
        {"tag": "dusty", "answer": "accept"},
        **bearer(library),
        content_type="application/json",
    )
    assert accepted.status_code == 200
    new.refresh_from_db()
    assert new.tags == ["dusty"]
    assert "dusty" not in [s["tag"] for s in accepted.json()]

    rejected = client.post(
        _url(new),
        {"tag": "drums", "answer": "reject"},
        **bearer(library),
        content_type="application/json",
    )
    assert rejected.status_code == 200
    assert "drums" not in [s["tag"] for s in rejected.json()]
    assert "drums" not in [s["tag"] for s in client.get(_url(new), **bearer(library)).json()]
    new.refresh_from_db()
    assert new.tags == ["dusty"]


@pytest.mark.django_db
def test_bad_answers_are_400(client, library):
    new = SampleFactory(owner=library)
    for body in ({"tag": "x", "answer": "maybe"}, {"tag": "<b></b>", "answer": "accept"}):
        response = client.post(_url(new), body, **bearer(library), content_type="application/json")
        assert response.status_code == 400


@pytest.mark.django_db
def test_other_peoples_samples_never_feed_or_receive_suggestions(client, library):
    stranger = UserFactory(role=Role.PRO)
    for n in range(5):
        SampleFactory(
            owner=stranger,
            category="kick",
            tags=["secret-project"],
            embedding=_vector(0, 0.01, seed=50 + n),
            visibility=Visibility.PUBLIC if n % 2 else Visibility.PRIVATE,
        )
    new = SampleFactory(
        owner=library, name="secret-project kick", category="kick", embedding=_vector(0, 0.1)
    )
    tags = [s["tag"] for s in client.get(_url(new), **bearer(library)).json()]
    assert "secret-project" not in tags and "secret" not in tags
    theirs = Sample.objects.filter(owner=stranger, visibility=Visibility.PUBLIC).first()
    assert client.get(_url(theirs), **bearer(library)).status_code == 404
    answer = {"tag": "dusty", "answer": "accept"}
    response = client.post(_url(theirs), answer, **bearer(library), content_type="application/json")
    assert response.status_code == 404


@pytest.mark.django_db
def test_sample_page_offers_suggestions_with_one_click_buttons(client, library):
    new = SampleFactory(
        owner=library, name="<b>Dusty</b> kick", category="kick", embedding=_vector(0, 0.1)
    )
    client.force_login(library)
    page = client.get(f"/library/samples/{new.pk}/").content.decode()
    assert "Suggested tags" in page and 'aria-label="Add tag dusty"' in page
    client.post(f"/organise/samples/{new.pk}/tags", {"tag": "dusty", "answer": "accept"})
    client.post(f"/organise/samples/{new.pk}/tags", {"tag": "drums", "answer": "reject"})
    new.refresh_from_db()
    assert new.tags == ["dusty"]
    page = client.get(f"/library/samples/{new.pk}/").content.decode()
    assert 'aria-label="Not drums"' not in page
    stranger = UserFactory()
    client.force_login(stranger)
    response = client.post(f"/organise/samples/{new.pk}/tags", {"tag": "x", "answer": "reject"})
    assert response.status_code == 404


@pytest.mark.django_db
def test_bulk_page_offers_a_tag_to_the_samples_that_sound_like_it(client, library):
    alike = [
        SampleFactory(
            owner=library, name=f"Untagged kick {n}", embedding=_vector(0, 0.1, seed=30 + n)
        )
        for n in range(3)
    ]
    SampleFactory(owner=library, name="Untagged pad", embedding=_vector(5, 0.1, seed=40))
    stranger = UserFactory()
    SampleFactory(owner=stranger, name="Their kick", embedding=_vector(0, 0.1, seed=41))
    client.force_login(library)

    page = client.get("/organise/tags/").content.decode()
    assert '3 samples look <span class="tag">dusty</span>' in page
    assert "Untagged pad" not in page and "Their kick" not in page

    response = client.post(
        "/organise/tags/answer",
        {"tag": "dusty", "answer": "accept", "sample": [str(s.pk) for s in alike[:2]]},
        follow=True,
    )
    assert "Tagged “dusty” for 2 samples." in response.content.decode()
    assert Sample.objects.get(pk=alike[0].pk).tags == ["dusty"]
    client.post(
        "/organise/tags/answer",
        {"tag": "dusty", "answer": "reject", "sample": [str(alike[2].pk)]},
    )
    assert (
        'look <span class="tag">dusty</span>' not in client.get("/organise/tags/").content.decode()
    )
    bad = client.post("/organise/tags/answer", {"tag": "dusty", "answer": "accept", "sample": "x"})
    assert bad.status_code == 400
