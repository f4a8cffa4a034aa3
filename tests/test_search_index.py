"""The backend owns its index: entries written, removed, rebuilt; the sweep repairs drift."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from search.backends import get_search_backend
from search.filters import SearchFilters
from search.services import search_index_sweep
from tests.factories import SampleFactory, UserFactory

pytestmark = pytest.mark.django_db


def found(user, text="", **filters) -> set[str]:
    page = get_search_backend().search(user=user, text=text, filters=SearchFilters(**filters))
    return {hit.sample.name for hit in page.hits}


def execute(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_the_sweep_repairs_entries_that_drifted_or_went_missing():
    producer = UserFactory()
    kick = SampleFactory(owner=producer, name="Thump", category="kick")
    snare = SampleFactory(owner=producer, name="Crack", category="snare")
    # As a restore with triggers off, or a hand edit, would leave them.
    execute("UPDATE search_sampledocument SET category = 'pad' WHERE sample_id = %s", [kick.pk])
    execute("DELETE FROM search_sampledocument WHERE sample_id = %s", [snare.pk])
    assert found(producer, categories=("kick",)) == set()
    assert found(producer, "crack") == set()
    assert set(get_search_backend().stale()) == {kick.pk, snare.pk}

    assert search_index_sweep() == 2

    assert found(producer, categories=("kick",)) == {"Thump"}
    assert found(producer, "crack") == {"Crack"}
    assert get_search_backend().stale() == []


def test_delete_and_rebuild():
    producer = UserFactory()
    kept = SampleFactory(owner=producer, name="Dusty loop", category="drum_loop")
    SampleFactory(owner=producer, name="Dusty pad", category="pad")
    backend = get_search_backend()
    backend.delete([kept.pk])
    assert found(producer, "dusty") == {"Dusty pad"}

    execute("DELETE FROM search_sampledocument", [])
    out = StringIO()
    call_command("search_rebuild", stdout=out)
    assert "samples indexed" in out.getvalue()
    assert found(producer, "dusty") == {"Dusty loop", "Dusty pad"}
