"""Writes search makes on its own: tidying the word list, repairing and rebuilding the index.

Documents and words are written by database triggers (which the backend's
``setup()`` makes) in the same transaction as any change; the backend owns the index too
(``index``/``delete``/``rebuild``), and the periodic sweep
(:func:`search_index_sweep`) repairs entries that drifted from their samples.
"""

from __future__ import annotations

from django.db import connection
from psycopg import sql

from library.models import Sample, Visibility
from search.backends.postgres.words import has_spelling, spelled_words
from search.cache import generations_bump

_WORDS_OF = sql.SQL("unnest(tsvector_to_array({}))").format(spelled_words("s"))

PRUNE = sql.SQL(
    "WITH used AS (SELECT DISTINCT word FROM library_sample s, {words} AS word)"
    " DELETE FROM search_searchterm term"
    " WHERE NOT EXISTS (SELECT 1 FROM used WHERE used.word = term.word)"
).format(words=_WORDS_OF)

# A witness is stale once its sample is gone, private, or no longer has the word.
RENEW_WITNESSES = sql.SQL(
    "WITH stale AS (SELECT term.word FROM search_searchterm term"
    " WHERE NOT EXISTS (SELECT 1 FROM library_sample s"
    " WHERE s.id = term.witness AND s.visibility = %(public)s AND {spelled})),"
    " found AS (SELECT DISTINCT ON (word) word, s.id AS sample_id"
    " FROM library_sample s, {words} AS word"
    " WHERE s.visibility = %(public)s AND word IN (SELECT word FROM stale)"
    " ORDER BY word, s.id)"
    " UPDATE search_searchterm term SET witness = found.sample_id"
    " FROM stale LEFT JOIN found ON found.word = stale.word"
    " WHERE term.word = stale.word AND term.witness IS DISTINCT FROM found.sample_id"
).format(spelled=has_spelling(sql.SQL("term.word")), words=_WORDS_OF)


def search_terms_prune() -> int:
    """Drop words no sample's name or tags use any more, and renew stale witnesses.

    Returns how many words went. Each step is one statement, so a word added
    by a sample stored meanwhile is either seen as used or not seen at all,
    never deleted from under it. A witness renewed to none while an upload
    records a new one only makes that word's next check slower: witnesses are
    checked wherever they are used.
    """
    with connection.cursor() as cursor:
        cursor.execute(PRUNE.as_string(None))
        removed = cursor.rowcount
        cursor.execute(RENEW_WITNESSES.as_string(None), {"public": Visibility.PUBLIC.value})
        return removed


def search_index_sweep(*, limit: int = 5000) -> int:
    """Rewrite the search entries that are missing or no longer match their samples.

    Returns how many were rewritten (at most ``limit`` a run; the next run takes the rest).
    """
    from search.backends import get_search_backend

    backend = get_search_backend()
    stale = backend.stale(limit=limit)
    backend.index(stale)
    if stale:
        # Answers ranked from the old entries go too (their samples' owners, and
        # everyone's: a rewritten entry may be a public sample's).
        _retire_answers(owner_ids=_owners_of(stale))
    return len(stale)


def _owners_of(sample_ids) -> list:
    owners = Sample.objects.filter(pk__in=sample_ids).values_list("owner_id", flat=True)
    return list(owners.distinct())


def _retire_answers(*, owner_ids) -> None:
    generations_bump(owner_ids=owner_ids, public=True)


def search_index_rebuild() -> int:
    """Rewrite every sample's search entry and drop orphans; returns how many samples."""
    from search.backends import get_search_backend

    rebuilt = get_search_backend().rebuild()
    _retire_answers(owner_ids=Sample.objects.values_list("owner_id", flat=True).distinct())
    return rebuilt
