"""Writes search makes on its own: tidying the word list.

Documents and words are written by database triggers (migration 0002), so
there is nothing to call when a sample changes.
"""

from __future__ import annotations

from django.db import connection

from search.backends.postgres.text import HAS_SPELLING, SPELLED_WORDS

_WORDS_OF = f"unnest(tsvector_to_array({SPELLED_WORDS}))"

PRUNE_SQL = f"""
    WITH used AS (SELECT DISTINCT word FROM library_sample s, {_WORDS_OF} AS word)
    DELETE FROM search_searchterm term
    WHERE NOT EXISTS (SELECT 1 FROM used WHERE used.word = term.word)
"""  # noqa: S608 - constants only

# A witness is stale once its sample is gone, private, or no longer has the word.
RENEW_WITNESSES_SQL = f"""
    WITH stale AS (
        SELECT term.word FROM search_searchterm term
        WHERE NOT EXISTS (
            SELECT 1 FROM library_sample s
            WHERE s.id = term.witness AND s.visibility = 'public'
              AND {HAS_SPELLING.format(word="term.word")}
        )
    ), found AS (
        SELECT DISTINCT ON (word) word, s.id AS sample_id
        FROM library_sample s, {_WORDS_OF} AS word
        WHERE s.visibility = 'public' AND word IN (SELECT word FROM stale)
        ORDER BY word, s.id
    )
    UPDATE search_searchterm term SET witness = found.sample_id
    FROM stale LEFT JOIN found ON found.word = stale.word
    WHERE term.word = stale.word AND term.witness IS DISTINCT FROM found.sample_id
"""  # noqa: S608 - constants only


def search_terms_prune() -> int:
    """Drop words no sample's name or tags use any more, and renew stale witnesses.

    Returns how many words went. Each step is one statement, so a word added
    by a sample stored meanwhile is either seen as used or not seen at all,
    never deleted from under it. A witness renewed to none while an upload
    records a new one only makes that word's next check slower: witnesses are
    checked wherever they are used.
    """
    with connection.cursor() as cursor:
        cursor.execute(PRUNE_SQL)
        removed = cursor.rowcount
        cursor.execute(RENEW_WITNESSES_SQL)
        return removed
