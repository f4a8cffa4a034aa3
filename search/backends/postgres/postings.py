"""Ranked postings (``PublicPosting``): each public search row's words, with their ranks.

The statements that write them, made by :func:`.schema.setup`: statement
triggers on ``search_sampledocument`` keep them in the same transaction as the
row (a row turned private loses its postings at once), and each rank is
``ts_rank(RANK_WEIGHTS, document, word)``, what ranking the document gives.
The statements that read them are in :mod:`.text`.
"""

from __future__ import annotations

from psycopg import sql

from library.models import Visibility

# The backend's default ts_rank weights (D, C, B, A), which the ranked postings hold.
RANK_WEIGHTS = (0.1, 0.2, 0.4, 1.0)


def _posting_rows(rows: str) -> sql.Composable:
    """``SELECT`` of the postings of the public rows among ``rows`` (aliased ``d``)."""
    return sql.SQL(
        "SELECT d.sample_id, word.lexeme, d.owner_id, d.created_at,"
        " ts_rank({weights}::float4[], d.document, search_lexeme_query(word.lexeme))"
        " FROM {rows} CROSS JOIN LATERAL unnest(d.document) word"
        " WHERE d.visibility = {public}"
    ).format(
        weights=sql.Literal(list(RANK_WEIGHTS)),
        rows=sql.SQL(rows),
        public=sql.Literal(Visibility.PUBLIC.value),
    )


_INSERT_POSTINGS = sql.SQL(
    "INSERT INTO search_publicposting (sample_id, lexeme, owner_id, created_at, rank) "
)
# What a posting copies: when one of them changes, the row's postings are rewritten.
_POSTED = sql.SQL(
    "(d.document, d.owner_id, d.created_at, d.visibility)"
    " IS DISTINCT FROM (o.document, o.owner_id, o.created_at, o.visibility)"
)
# The tsquery that matches exactly this lexeme, taken as it is (no parsing or stemming
# again): quoted, with quotes and backslashes escaped.
_LEXEME_QUERY = r"""CREATE OR REPLACE FUNCTION search_lexeme_query(lexeme text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''')::tsquery
$$"""


def functions() -> list[sql.Composable]:
    """The ranked postings (``PublicPosting``): each public row's words with their ranks.

    Kept by statement triggers on ``search_sampledocument``, in the same
    transaction as the row: a row turned private loses its postings at once.
    """
    return [
        sql.SQL(_LEXEME_QUERY),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION search_postings_inserted() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN {insert}{postings}; RETURN NULL; END $$"
        ).format(insert=_INSERT_POSTINGS, postings=_posting_rows("new_rows d")),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION search_postings_updated() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN"
            " DELETE FROM search_publicposting posting"
            " USING new_rows d JOIN old_rows o USING (sample_id)"
            " WHERE posting.sample_id = d.sample_id AND {posted};"
            " {insert}{postings} AND {posted}; RETURN NULL; END $$"
        ).format(
            posted=_POSTED,
            insert=_INSERT_POSTINGS,
            postings=_posting_rows("new_rows d JOIN old_rows o USING (sample_id)"),
        ),
        sql.SQL(
            "CREATE OR REPLACE FUNCTION search_postings_deleted() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN DELETE FROM search_publicposting posting"
            " USING old_rows WHERE posting.sample_id = old_rows.sample_id; RETURN NULL; END $$"
        ),
    ]


def triggers() -> list[sql.Composable]:
    return [
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_postings_inserted AFTER INSERT"
            " ON search_sampledocument REFERENCING NEW TABLE AS new_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION search_postings_inserted()"
        ),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_postings_updated AFTER UPDATE"
            " ON search_sampledocument REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION search_postings_updated()"
        ),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_postings_deleted AFTER DELETE"
            " ON search_sampledocument REFERENCING OLD TABLE AS old_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION search_postings_deleted()"
        ),
    ]


def rebuild() -> sql.Composable:
    """Every posting written again (after the weights changed)."""
    return sql.SQL("DELETE FROM search_publicposting; {}{}").format(
        _INSERT_POSTINGS, _posting_rows("search_sampledocument d")
    )


def missing() -> sql.Composable:
    """The postings of public rows that have none (written before the triggers were there)."""
    return sql.SQL("{}{} AND NOT EXISTS ({})").format(
        _INSERT_POSTINGS,
        _posting_rows("search_sampledocument d"),
        sql.SQL("SELECT 1 FROM search_publicposting p WHERE p.sample_id = d.sample_id"),
    )
