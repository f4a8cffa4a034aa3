"""Browsing without text: the visible samples that pass the filters, newest first or sorted.

With filters, their matches are first gathered through the filters' own
indexes, up to the cap, and sorted there: walking the ``created_at`` index
newest first until a page is found is quick when many samples match, but
passes the whole table when filters that look common together match few or
none ("kicks at 90-130 BPM": kicks have no tempo). Only when the cap is
reached is the index walked.
"""

from __future__ import annotations

from psycopg import sql

from search.backends.postgres.common import (
    SAMPLE_JOIN,
    Params,
    also,
    filter_where,
    sample_columns,
    visible,
)
from search.filters import SearchFilters
from search.filters.declared import key_pairs


def filtered_rows(
    user, filters: SearchFilters, columns: sql.Composable
) -> tuple[sql.Composable, Params]:
    """``SELECT columns`` of the search rows ``user`` may see that pass ``filters``.

    Compatible keys are one branch per key, each read from its range of the
    filters' covering index (migration 0009): an ``OR`` of the pairs can only
    be read as a bitmap of the rows, which visits every row's page.
    """
    pairs = key_pairs(filters)
    where, params = filter_where(
        user, filters, alias="d", id_column="sample_id", skip={"key"} if pairs else ()
    )

    def select(branch: list[sql.Composable]) -> sql.Composable:
        return sql.SQL("SELECT {} FROM search_sampledocument d WHERE {}{}").format(
            columns, visible(user, "d"), also([*where, *branch])
        )

    if not pairs:
        return select([]), params
    branches = []
    for n, (key, mode) in enumerate(pairs):
        params[f"pair_key{n}"], params[f"pair_mode{n}"] = key, mode
        branches.append(
            select(
                [
                    sql.SQL("d.key = {} AND d.mode = {}").format(
                        sql.Placeholder(f"pair_key{n}"), sql.Placeholder(f"pair_mode{n}")
                    )
                ]
            )
        )
    return sql.SQL(" UNION ALL ").join(branches), params


def capped_page(rows: sql.Composable, order: sql.Composable, page_order: sql.Composable):
    """The page of the first ``%(cap)s`` matching rows, with their number in each row."""
    return sql.SQL(
        "WITH matches AS ({rows} LIMIT %(cap)s),"
        " page AS (SELECT *, count(*) OVER () AS total FROM matches"
        " ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s)"
        " SELECT page.total, {columns} FROM page{join} ORDER BY {page_order}"
    ).format(
        rows=rows, order=order, columns=sample_columns(), join=SAMPLE_JOIN, page_order=page_order
    )


def capped_count(rows: sql.Composable) -> sql.Composable:
    return sql.SQL("SELECT count(*) FROM ({} LIMIT %(cap)s) matches").format(rows)


def walked_page(rows: sql.Composable, order: sql.Composable, page_order: sql.Composable):
    """The page read in ``order`` (an index walk), and the matches counted up to the cap."""
    return sql.SQL(
        "WITH page AS ({rows} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s),"
        " counted AS (SELECT count(*) AS total FROM ({rows} LIMIT %(cap)s) capped)"
        " SELECT counted.total, {columns} FROM counted LEFT JOIN page ON true{join}"
        " ORDER BY {page_order}"
    ).format(
        rows=rows, order=order, columns=sample_columns(), join=SAMPLE_JOIN, page_order=page_order
    )
