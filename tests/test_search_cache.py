"""Search answers come from Redis when asked again, and never outlive a change."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from library.models import Sample, Visibility
from library.services.collections import collection_add_samples, collection_create
from library.services.samples import sample_delete, sample_update
from search import selectors
from tests.factories import SampleFactory, UserFactory, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def pro():
    return UserFactory(role=Role.PRO)


def search(client, user, **params):
    """The names an API search returns, and how many queries it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/search", params, **bearer(user))
    assert response.status_code == 200, response.content[:300]
    return [row["name"] for row in response.json()["results"]], len(queries)


def test_a_repeated_search_is_answered_from_the_cache(client, pro):
    SampleFactory(owner=pro, name="Dusty Kick")
    SampleFactory(owner=pro, name="Dusty Snare")

    first, first_queries = search(client, pro, q="dusty")
    again, again_queries = search(client, pro, q="dusty")

    assert again == first and sorted(first) == ["Dusty Kick", "Dusty Snare"]
    assert again_queries < first_queries


def test_a_cached_page_costs_one_query_and_keeps_owners_out_of_redis(
    pro, django_assert_num_queries
):
    SampleFactory(owner=pro, name="Warm Pad")
    first = selectors.search_samples(user=pro, text="pad")

    with django_assert_num_queries(1):  # the owners, put back; no ranking query
        again = selectors.search_samples(user=pro, text="pad")

    assert [hit.sample.name for hit in again.hits] == [hit.sample.name for hit in first.hits]
    assert again.hits[0].sample.owner.email == pro.email
    assert again.total == first.total == 1


def test_every_argument_is_part_of_the_key(client, pro):
    SampleFactory(owner=pro, name="Kick A", bpm=None)
    SampleFactory(owner=pro, name="Kick Loop", bpm=128, is_loop=True)

    everything, _ = search(client, pro, q="kick")
    loops, _ = search(client, pro, q="kick", bpm_min=120)
    one, _ = search(client, pro, q="kick", page_size=1)

    assert sorted(everything) == ["Kick A", "Kick Loop"]
    assert loops == ["Kick Loop"]
    assert len(one) == 1


def test_people_never_see_each_others_cached_answers(client, pro):
    other = UserFactory(role=Role.PRO)
    SampleFactory(owner=pro, name="Secret Kick", visibility=Visibility.PRIVATE)
    SampleFactory(owner=other, name="Shared Kick", visibility=Visibility.PUBLIC)

    mine, _ = search(client, pro, q="kick")
    theirs, _ = search(client, other, q="kick")

    assert sorted(mine) == ["Secret Kick", "Shared Kick"]
    assert theirs == ["Shared Kick"]


def test_creating_editing_and_deleting_a_sample_shows_in_the_next_search(client, pro):
    kick = SampleFactory(owner=pro, name="Kick One")
    assert search(client, pro, q="kick")[0] == ["Kick One"]

    SampleFactory(owner=pro, name="Kick Two")
    assert sorted(search(client, pro, q="kick")[0]) == ["Kick One", "Kick Two"]

    sample_update(sample=kick, actor=pro, name="Snare One")
    assert search(client, pro, q="kick")[0] == ["Kick Two"]
    assert search(client, pro, q="snare")[0] == ["Snare One"]

    sample_delete(sample=Sample.objects.get(name="Kick Two"), actor=pro)
    assert search(client, pro, q="kick")[0] == []


def test_a_public_sample_going_private_leaves_other_peoples_results(client, pro):
    other = UserFactory(role=Role.PRO)
    shared = SampleFactory(owner=pro, name="Vinyl Crackle", visibility=Visibility.PUBLIC)
    assert search(client, other, q="vinyl")[0] == ["Vinyl Crackle"]

    sample_update(sample=Sample.objects.get(pk=shared.pk), actor=pro, visibility="private")

    assert search(client, other, q="vinyl")[0] == []


def test_changes_committed_elsewhere_retire_answers_too(
    client, pro, django_capture_on_commit_callbacks
):
    SampleFactory(owner=pro, name="Deep Bass")
    assert search(client, pro, q="bass")[0] == ["Deep Bass"]

    # What a worker does when an analysis finishes: a save, then the commit.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sample = Sample.objects.get(name="Deep Bass")
        sample.name = "Deep Sub Bass"
        sample.save()

    assert callbacks  # the second bump waits for the commit
    assert search(client, pro, q="sub")[0] == ["Deep Sub Bass"]


def test_collection_changes_reach_searches_filtered_by_collection(client, pro):
    kick = SampleFactory(owner=pro, name="Tight Kick")
    crate = collection_create(owner=pro, name="Crate")
    assert search(client, pro, q="kick", collection=crate.pk)[0] == []

    collection_add_samples(collection=crate, actor=pro, sample_ids=[str(kick.pk)])

    assert search(client, pro, q="kick", collection=crate.pk)[0] == ["Tight Kick"]


def test_facets_and_suggestions_follow_changes(pro):
    SampleFactory(owner=pro, name="Crash Cymbal", category="cymbal")
    before = selectors.search_facets(user=pro, text="crash")
    SampleFactory(owner=pro, name="Crash Ride", category="cymbal")

    after = selectors.search_facets(user=pro, text="crash")
    suggestions = selectors.search_suggestions(user=pro, text="cra")

    counts = {facet.value: facet.count for facet in after.category}
    assert counts["cymbal"] == {f.value: f.count for f in before.category}["cymbal"] + 1
    assert suggestions and suggestions[0].word.startswith("cra")


def test_the_cache_can_be_bypassed_and_switched_off(pro, settings, django_assert_num_queries):
    SampleFactory(owner=pro, name="Open Hat")
    selectors.search_samples(user=pro, text="hat")

    with CaptureQueriesContext(connection) as bypassed:
        selectors.search_samples(user=pro, text="hat", cache=False)
    settings.SEARCH_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as switched_off:
        selectors.search_samples(user=pro, text="hat")

    assert len(bypassed) >= 1 and len(switched_off) >= 1


def test_reanalysis_shows_in_the_next_search(client, pro):
    from library.services import analysis

    sample = SampleFactory(owner=pro, name="Dusty Kick")
    response = client.get("/api/v1/search", {"q": "dusty"}, **bearer(pro))
    assert response.json()["results"][0]["status"] == "ready"

    analysis.sample_reanalyze(sample=sample)  # a queryset update(): no model signals

    response = client.get("/api/v1/search", {"q": "dusty"}, **bearer(pro))
    assert response.json()["results"][0]["status"] == "pending"
