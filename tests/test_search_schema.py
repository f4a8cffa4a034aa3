"""The database objects the search backend owns follow the Python definitions they come from.

Migrations hold no copy of a Python constant: the per-category vector indexes,
the search functions and triggers are made by ``backend.setup()`` (after every
``migrate``) from ``library.analysis.CATEGORIES``, the search row's model and
the text configuration, and change when those do.
"""

from __future__ import annotations

import pytest
from django.db import connection

from library.analysis import CATEGORIES
from library.models import Visibility
from search.backends import get_search_backend
from search.backends.postgres import postings, schema
from search.filters import SearchFilters
from tests.factories import SampleFactory, UserFactory

pytestmark = pytest.mark.django_db


def category_indexes() -> dict[str, str]:
    """The partial HNSW indexes on library_sample by category: name -> their predicate."""
    with connection.cursor() as cursor:
        cursor.execute(schema.EXISTING_CATEGORY_INDEXES.as_string(None))
        names = [name for (name,) in cursor.fetchall()]
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [names]
        )
        return dict(cursor.fetchall())


def document_words(sample) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tsvector_to_array(document) FROM search_sampledocument WHERE sample_id = %s",
            [sample.pk],
        )
        return set(cursor.fetchone()[0])


def test_each_category_of_the_analyser_has_its_vector_index_and_no_other_does():
    indexes = category_indexes()
    assert set(indexes) == {f"search_sample_embedding_{category}" for category in CATEGORIES}
    for category in CATEGORIES:
        definition = indexes[f"search_sample_embedding_{category}"]
        assert "USING hnsw (embedding vector_cosine_ops)" in definition
        assert f"(category)::text = '{category}'::text" in definition


def test_a_new_category_gets_its_index_and_a_dropped_one_loses_it(monkeypatch):
    monkeypatch.setattr(schema, "CATEGORIES", (*CATEGORIES[:-1], "field_recording"))
    assert get_search_backend().setup() is True

    indexes = category_indexes()
    assert "search_sample_embedding_field_recording" in indexes
    assert f"search_sample_embedding_{CATEGORIES[-1]}" not in indexes
    assert len(indexes) == len(CATEGORIES)


def test_setup_is_idempotent_and_a_forced_one_keeps_search_working():
    backend = get_search_backend()
    assert backend.setup() is False  # migrate already made everything
    producer = UserFactory()
    SampleFactory(owner=producer, name="Dusty Kick 01", category="kick")
    assert backend.setup(force=True) is True
    page = backend.search(user=producer, text="dusty", filters=SearchFilters())
    assert [hit.sample.name for hit in page.hits] == ["Dusty Kick 01"]
    assert get_search_backend().stale() == []


def test_rows_are_rebuilt_when_what_a_row_holds_changes(monkeypatch):
    producer = UserFactory()
    sample = SampleFactory(owner=producer, name="Kicking Drums", category="drum_loop")
    assert "kick" in document_words(sample)  # English stems

    monkeypatch.setattr(schema, "TEXT_CONFIG", "simple")
    assert get_search_backend().setup() is True
    assert "kicking" in document_words(sample)  # rebuilt with the new configuration


def test_the_search_row_follows_every_column_it_copies_whatever_changes_it():
    producer = UserFactory()
    sample = SampleFactory(owner=producer, name="Thump", category="kick", bpm=None)
    type(sample).objects.filter(pk=sample.pk).update(  # no save(): only the trigger sees it
        category="snare", bpm=128.0, loudness_lufs=-9.5, is_loop=True
    )
    assert get_search_backend().stale() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT category, bpm, loudness_lufs, is_loop FROM search_sampledocument"
            " WHERE sample_id = %s",
            [sample.pk],
        )
        assert cursor.fetchone() == ("snare", 128.0, -9.5, True)
    assert set(schema.mirrored()) >= {"category", "bpm", "loudness_lufs", "is_loop", "owner_id"}


def posting_ranks(sample) -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lexeme, rank FROM search_publicposting WHERE sample_id = %s", [sample.pk]
        )
        return dict(cursor.fetchall())


def test_ranked_postings_follow_the_backends_weights(monkeypatch):
    sample = SampleFactory(name="Kick", description="a kick and a snare", visibility="public")
    before = posting_ranks(sample)
    assert before["kick"] > before["snare"]  # in the name (A) beats the description (C)

    monkeypatch.setattr(postings, "RANK_WEIGHTS", (0.1, 1.0, 0.4, 0.2))  # descriptions first
    assert get_search_backend().setup() is True
    after = posting_ranks(sample)
    assert set(after) == set(before) and after["snare"] > before["snare"]
    # Searches rank from them as from the documents with the same weights.
    backend = type(get_search_backend())("test", weights=[0.1, 1.0, 0.4, 0.2])
    through_documents = type(backend)("test", weights=[0.1, 1.0, 0.4, 0.2], postings=False)
    me = UserFactory()
    for text in ("kick", "snare"):
        ranked = backend.search(user=me, text=text).hits[0].score
        assert ranked == pytest.approx(through_documents.search(user=me, text=text).hits[0].score)


def test_the_public_words_index_is_made_with_the_public_visibility():
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX search_document_public_gin")  # as a restore might lose it
        cursor.execute("DROP TRIGGER search_postings_deleted ON search_sampledocument")
    assert get_search_backend().setup() is True  # not current, though the fingerprint is
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'search_document_public_gin'"
        )
        (definition,) = cursor.fetchone()
    assert "USING gin (document)" in definition
    assert f"(visibility)::text = '{Visibility.PUBLIC.value}'::text" in definition
    assert get_search_backend().setup() is False
