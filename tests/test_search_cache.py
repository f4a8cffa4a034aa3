"""Search answers come from Redis when asked again, and never outlive a change."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.services import user_delete
from library.models import Sample, Visibility
from library.services.analysis import sample_analysis_failed
from library.services.collections import (
    collection_add_samples,
    collection_create,
    collection_remove_samples,
)
from library.services.corrections import sample_correct
from library.services.samples import sample_delete, sample_save_as_admin, sample_update
from search import selectors
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer, upload_file

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


def test_creating_editing_and_deleting_a_sample_shows_in_the_next_search(client, pro, tmp_path):
    kick = SampleFactory(owner=pro, name="Kick One")
    assert search(client, pro, q="kick")[0] == ["Kick One"]

    uploaded = upload_file(client, pro, audio.write(tmp_path / "Kick_Two.wav", audio.kick()))
    assert uploaded.status_code == 201, uploaded.content[:300]
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

    # A change made in a transaction that a search may overlap: bumped again at the commit.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sample_update(sample=Sample.objects.get(name="Deep Bass"), actor=pro, name="Deep Sub Bass")

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
    ride = SampleFactory(owner=pro, name="Ride", category="cymbal")
    before = selectors.search_facets(user=pro, text="crash")
    sample_update(sample=ride, actor=pro, name="Crash Ride")

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


def test_a_correction_shows_in_the_next_search(client, pro):
    sample = SampleFactory(owner=pro, name="Body Hit", category="kick")
    assert search(client, pro, q="body", category="snare")[0] == []

    sample_correct(sample=sample, actor=pro, changes={"category": "snare"})

    assert search(client, pro, q="body", category="snare")[0] == ["Body Hit"]


def test_a_failed_analysis_shows_in_the_next_search(client, pro):
    sample = SampleFactory(owner=pro, name="Broken Loop", status="analyzing")
    assert client.get("/api/v1/search", {"q": "broken"}, **bearer(pro)).json()["results"]

    sample_analysis_failed(sample_id=str(sample.pk), reason="The file ends early.")

    response = client.get("/api/v1/search", {"q": "broken"}, **bearer(pro))
    assert response.json()["results"][0]["status"] == "failed"


def test_taking_a_sample_out_of_a_collection_shows_in_the_next_search(client, pro):
    kick = SampleFactory(owner=pro, name="Tight Kick")
    crate = collection_create(owner=pro, name="Crate")
    collection_add_samples(collection=crate, actor=pro, sample_ids=[str(kick.pk)])
    assert search(client, pro, q="kick", collection=crate.pk)[0] == ["Tight Kick"]

    collection_remove_samples(collection=crate, actor=pro, sample_ids=[str(kick.pk)])

    assert search(client, pro, q="kick", collection=crate.pk)[0] == []


def test_a_deleted_account_leaves_other_peoples_results(client, pro):
    other = UserFactory(role=Role.PRO)
    SampleFactory(owner=other, name="Tape Hiss", visibility=Visibility.PUBLIC)
    assert search(client, pro, q="hiss")[0] == ["Tape Hiss"]

    user_delete(user=other, actor=None)

    assert search(client, pro, q="hiss")[0] == []


def test_admin_edits_show_in_the_next_search(client, pro):
    staff = UserFactory(role=Role.ADMIN, is_superuser=True, is_staff=True)
    shared = SampleFactory(owner=pro, name="Room Tone", visibility=Visibility.PUBLIC)
    crate = collection_create(owner=pro, name="Crate")
    collection_add_samples(collection=crate, actor=pro, sample_ids=[str(shared.pk)])
    assert search(client, staff, q="room")[0] == ["Room Tone"]
    assert search(client, pro, q="room", collection=crate.pk)[0] == ["Room Tone"]

    shared.visibility = Visibility.PRIVATE  # what the admin's form sets
    sample_save_as_admin(sample=shared, was_public=True)
    client.force_login(staff)
    deleted = client.post(f"/admin/library/collection/{crate.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert search(client, staff, q="room")[0] == []
    gone = client.get("/api/v1/search", {"q": "room", "collection": crate.pk}, **bearer(pro))
    assert gone.status_code != 200 or gone.json()["results"] == []
