"""Bulk actions on ticked samples happen whole or not at all, and are audited."""

import pytest

from accounts.models import AuditLog
from library.models import Sample
from library.services.bulk import samples_bulk_act
from samplemind.errors import ProductError
from tests.factories import CollectionFactory, SampleFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_tagging_many_samples_is_one_audited_change():
    me = UserFactory()
    samples = [SampleFactory(owner=me, tags=["dusty"]) for _ in range(3)]

    said = samples_bulk_act(actor=me, samples=samples, action="tag", tags="vinyl, warm")

    assert said == "Tagged 3 sample(s)."
    assert {tuple(s.tags) for s in Sample.objects.filter(owner=me)} == {("dusty", "vinyl", "warm")}
    entry = AuditLog.objects.get(action="samples.tagged")
    assert entry.details["count"] == 3
    assert entry.details["tags"] == ["vinyl", "warm"]


def test_a_failure_part_way_leaves_every_sample_as_it_was():
    me, stranger = UserFactory(), UserFactory()
    mine = SampleFactory(owner=me, tags=[])
    theirs = SampleFactory(owner=stranger, tags=[])

    with pytest.raises(ProductError):
        samples_bulk_act(actor=me, samples=[mine, theirs], action="tag", tags="stolen")

    assert Sample.objects.get(pk=mine.pk).tags == []  # not half tagged
    assert Sample.objects.get(pk=theirs.pk).tags == []
    assert not AuditLog.objects.filter(action="samples.tagged").exists()


def test_deleting_stops_whole_when_one_sample_is_not_the_actors():
    me, stranger = UserFactory(), UserFactory()
    mine, theirs = SampleFactory(owner=me), SampleFactory(owner=stranger)
    ids = [mine.pk, theirs.pk]

    with pytest.raises(ProductError):
        samples_bulk_act(actor=me, samples=[mine, theirs], action="delete")

    assert Sample.objects.filter(pk__in=ids).count() == 2


def test_collecting_into_someone_elses_collection_is_refused():
    me = UserFactory()
    theirs = CollectionFactory(owner=UserFactory())

    with pytest.raises(ProductError, match="one of your collections"):
        samples_bulk_act(
            actor=me, samples=[SampleFactory(owner=me)], action="collect", collection=theirs
        )

    assert theirs.items.count() == 0


def test_nothing_ticked_or_an_unknown_action_is_said_plainly():
    me = UserFactory()
    with pytest.raises(ProductError, match="Tick at least one sample"):
        samples_bulk_act(actor=me, samples=[], action="delete")
    with pytest.raises(ProductError, match="Choose what to do"):
        samples_bulk_act(actor=me, samples=[SampleFactory(owner=me)], action="explode")
