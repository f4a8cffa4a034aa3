"""Favourites and stars: set through the API and the sample page, used as filters, sorts, facets."""

from __future__ import annotations

import pytest

from accounts.models import Role
from library.models import Visibility
from organise.services.ratings import sample_rate
from tests.factories import SampleFactory, UserFactory, bearer


@pytest.fixture
def producer():
    return UserFactory(role=Role.STUDIO)


def _put(client, user, sample, body):
    return client.put(
        f"/api/v1/audio/{sample.pk}/rating", body, content_type="application/json", **bearer(user)
    )


@pytest.mark.django_db
def test_rating_and_favourite_show_on_the_sample(client, producer):
    sample = SampleFactory(owner=producer)

    assert _put(client, producer, sample, {"rating": 4}).json() == {
        "favourite": False,
        "rating": 4,
    }
    assert _put(client, producer, sample, {"favourite": True}).json() == {
        "favourite": True,
        "rating": 4,
    }
    body = client.get(f"/api/v1/audio/{sample.pk}", **bearer(producer)).json()
    assert (body["favourite"], body["rating"]) == (True, 4)
    assert _put(client, producer, sample, {"rating": None}).json()["rating"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("rating", [0, 6, "lots"])
def test_stars_outside_one_to_five_are_a_400(client, producer, rating):
    sample = SampleFactory(owner=producer)
    response = _put(client, producer, sample, {"rating": rating})
    assert response.status_code == 400
    assert "rating" in response.json()["error"]["details"]


@pytest.mark.django_db
def test_another_persons_private_sample_cannot_be_rated(client, producer):
    private = SampleFactory(owner=UserFactory())
    assert _put(client, producer, private, {"rating": 5}).status_code == 404
    public = SampleFactory(owner=UserFactory(), visibility=Visibility.PUBLIC)
    assert _put(client, producer, public, {"favourite": True}).status_code == 200


@pytest.mark.django_db
def test_favourite_and_star_filters_sorts_and_facets_in_the_library_api(client, producer):
    low, high, plain, fav = (SampleFactory(owner=producer, name=n) for n in "LHPF")
    sample_rate(user=producer, sample=low, rating=2)
    sample_rate(user=producer, sample=high, rating=5)
    sample_rate(user=producer, sample=fav, favourite=True, rating=5)
    # Someone else's marks on the same samples change nothing for the owner.
    sample_rate(user=UserFactory(), sample=plain, favourite=True, rating=1)

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/audio/?{query}", **bearer(producer))
        assert response.status_code == 200, response.json()
        return [s["name"] for s in response.json()["results"]]

    assert names("favourite=true") == ["F"]
    assert sorted(names("rating_min=4")) == ["F", "H"]
    assert names("rating_min=2&rating_max=2") == ["L"]
    assert names("ordering=-rating")[:3] in (["H", "F", "L"], ["F", "H", "L"])
    assert names("ordering=-rating")[-1] == "P"  # unrated last
    assert names("ordering=-favourite")[0] == "F"
    assert client.get("/api/v1/audio/?rating_min=9", **bearer(producer)).status_code == 400


@pytest.mark.django_db
def test_star_facet_in_search_counts_only_the_callers_marks(client, producer):
    mine = [SampleFactory(owner=producer, name=f"kick {n}") for n in range(3)]
    sample_rate(user=producer, sample=mine[0], rating=5)
    sample_rate(user=producer, sample=mine[1], rating=5)
    sample_rate(user=producer, sample=mine[2], rating=3)
    sample_rate(user=UserFactory(), sample=mine[2], rating=1)

    response = client.get("/api/v1/search?facets=true&mine=true", **bearer(producer))
    assert response.status_code == 200, response.json()
    facets = response.json()["facets"]
    stars = {entry["value"]: entry["count"] for entry in facets["rating"]}
    assert stars == {5: 2, 3: 1}
    favourites = client.get("/api/v1/search?favourite=true", **bearer(producer)).json()
    assert favourites["count"] == 0


@pytest.mark.django_db
def test_sample_page_heart_and_stars_are_one_click_each(client, producer):
    sample = SampleFactory(owner=producer)
    client.force_login(producer)
    page = client.get(f"/library/samples/{sample.pk}/").content.decode()
    assert "Add to favourites" in page

    client.post(f"/organise/samples/{sample.pk}/rate", {"favourite": "true"})
    client.post(f"/organise/samples/{sample.pk}/rate", {"rating": "3"})
    page = client.get(f"/library/samples/{sample.pk}/").content.decode()
    assert "♥ Favourite" in page and page.count("★") >= 3
    bad = client.post(f"/organise/samples/{sample.pk}/rate", {"rating": "7"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_library_list_with_marks_runs_a_fixed_number_of_queries(
    client, producer, django_assert_max_num_queries
):
    client.force_login(producer)
    for n in range(3):
        sample_rate(user=producer, sample=SampleFactory(owner=producer), rating=n + 1)
    with django_assert_max_num_queries(20) as few:
        client.get("/api/v1/audio/?ordering=-rating", **bearer(producer))
    for _n in range(12):
        sample_rate(user=producer, sample=SampleFactory(owner=producer), favourite=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/audio/?ordering=-rating", **bearer(producer))
    assert len(response.json()["results"]) == 15
