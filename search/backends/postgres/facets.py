"""Facets: how a search's matches spread over each faceted filter's values, in one statement.

Each facet leaves out its own filter, so the other choices stay visible: the
matches are gathered with the other filters, each row says which facet
filters it passes, and each grouping counts the rows that pass the others.
"""

from __future__ import annotations

from psycopg import sql

from search.backends.postgres.common import (
    Params,
    also,
    filter_conditions,
    visibility_params,
    visible,
)
from search.backends.postgres.text import TextQuery, matching
from search.filters import Filter, FilterContext, SearchFilters
from search.filters.base import FacetCount


def facets_statement(
    user, filters: SearchFilters, query: TextQuery | None, faceted: list[Filter]
) -> tuple[sql.Composable, Params, list[int]]:
    """Rows ``(GROUPING per facet..., values per facet..., count per facet...)``.

    A row belongs to the facet whose ``GROUPING()`` is 0; :func:`facet_counts`
    reads them, given the number of value columns of each facet (returned third).
    """
    conditions, params = filter_conditions(user, filters, alias="d", id_column="sample_id")
    names = {item.name for item in faceted}
    where = [condition for name, condition in conditions.items() if name not in names]
    ctx = FilterContext(user=user, alias="d", id_column="sample_id", params=params)
    columns, passes, groups = [], [], []
    for n, item in enumerate(faceted):
        aliases = []
        for m, expression in enumerate(item.facet_columns(ctx)):
            aliases.append(sql.Identifier(f"f{n}_{m}"))
            columns.append(sql.SQL("{} AS {}").format(expression, aliases[-1]))
        own = conditions.get(item.name, sql.SQL("true"))
        passes.append(sql.SQL("({}) AS {}").format(own, sql.Identifier(f"ok{n}")))
        groups.append(aliases)
    selected = sql.SQL(", ").join([*columns, *passes])
    if query is None:
        matches = sql.SQL("SELECT {} FROM search_sampledocument d WHERE {}{}").format(
            selected, visible(user, "d"), also(where)
        )
    else:
        matches = matching(user, query, lambda _document: selected, where)
        params["text"] = query.value
    params |= visibility_params(user)
    counts = [
        sql.SQL("count(*) FILTER (WHERE {})").format(
            sql.SQL(" AND ").join(
                [sql.Identifier(f"ok{m}") for m in range(len(faceted)) if m != n]
                or [sql.SQL("true")]
            )
        )
        for n in range(len(faceted))
    ]
    statement = sql.SQL(
        "SELECT {groupings}, {values}, {counts} FROM ({matches}) m GROUP BY GROUPING SETS ({sets})"
    ).format(
        groupings=sql.SQL(", ").join(
            sql.SQL("GROUPING({})").format(sql.SQL(", ").join(group)) for group in groups
        ),
        values=sql.SQL(", ").join(alias for group in groups for alias in group),
        counts=sql.SQL(", ").join(counts),
        matches=matches,
        sets=sql.SQL(", ").join(
            sql.SQL("({})").format(sql.SQL(", ").join(group)) for group in groups
        ),
    )
    return statement, params, [len(group) for group in groups]


def facet_counts(
    rows: list[tuple], faceted: list[Filter], widths: list[int]
) -> dict[str, list[FacetCount]]:
    """The facets' counts by filter name, from :func:`facets_statement`'s rows."""
    found: dict[str, list[tuple[tuple, int]]] = {item.name: [] for item in faceted}
    first_count = len(faceted) + sum(widths)
    for row in rows:
        n = list(row[: len(faceted)]).index(0)  # GROUPING() is 0 for its own columns
        start = len(faceted) + sum(widths[:n])
        found[faceted[n].name].append((tuple(row[start : start + widths[n]]), row[first_count + n]))
    return {item.name: item.facet_counts(found[item.name]) for item in faceted}
