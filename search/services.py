"""Writes search makes on its own: tidying the word list.

Documents and words are written by database triggers (migration 0002), so
there is nothing to call when a sample changes.
"""

from __future__ import annotations

from django.db import connection

PRUNE_SQL = """
    WITH used AS (
        SELECT DISTINCT word
        FROM library_sample s,
             unnest(tsvector_to_array(to_tsvector(
                 'simple', search_normalise(s.name || ' ' || array_to_string(s.tags, ' ')))))
                 AS word
    )
    DELETE FROM search_searchterm term
    WHERE NOT EXISTS (SELECT 1 FROM used WHERE used.word = term.word)
"""


def search_terms_prune() -> int:
    """Drop words no sample's name or tags use any more; returns how many went.

    One statement, so a word added by a sample stored meanwhile is either seen
    as used or not seen at all, never deleted from under it.
    """
    with connection.cursor() as cursor:
        cursor.execute(PRUNE_SQL)
        return cursor.rowcount
