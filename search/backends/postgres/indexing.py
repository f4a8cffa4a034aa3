"""The index the backend owns: search rows written, removed, checked and rebuilt from samples.

Database triggers (made by :func:`.schema.setup`) keep the rows current in the
same transaction as any change; these statements let the backend write them
itself (``index``, ``delete``, ``rebuild``) and find rows that drifted from
their samples (a restore with triggers off, a row edited by hand), which the
periodic sweep repairs. A row is written by ``search_refresh``, the same SQL
function the triggers call, so both ways build the same document.
"""

from __future__ import annotations

from psycopg import sql

from search.backends.postgres.schema import mirrored

# The search row's copies of the sample's columns; a difference means the row drifted.
MIRRORED = mirrored()

INDEX = sql.SQL("SELECT search_refresh(%(ids)s::uuid[], true)")
DELETE = sql.SQL("DELETE FROM search_sampledocument WHERE sample_id = ANY(%(ids)s::uuid[])")
ORPHANS = sql.SQL(
    "DELETE FROM search_sampledocument d"
    " WHERE NOT EXISTS (SELECT 1 FROM library_sample s WHERE s.id = d.sample_id)"
)
ALL_IDS = sql.SQL("SELECT id FROM library_sample ORDER BY id")
STALE = sql.SQL(
    "SELECT s.id FROM library_sample s"
    " LEFT JOIN search_sampledocument d ON d.sample_id = s.id"
    " WHERE d.sample_id IS NULL OR ({sample}) IS DISTINCT FROM ({document})"
    " ORDER BY s.id LIMIT %(limit)s"
).format(
    sample=sql.SQL(", ").join(sql.Identifier("s", name) for name in MIRRORED),
    document=sql.SQL(", ").join(sql.Identifier("d", name) for name in MIRRORED),
)
