"""Sound similarity: the kNN statement over ``library_sample.embedding`` and how it is read.

``ORDER BY embedding <=> v LIMIT k`` on HNSW indexes (one for all samples, one
per category, migration 0002), with pgvector's iterative index scan on so that
filters do not starve the answer; settings travel in the query's round trip.
Loops and filters that leave few samples are compared exactly, through
covering indexes where there are some (migrations 0003 and 0009).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import product
from uuid import UUID

from psycopg import sql

from search.backends.postgres.common import (
    SAMPLE_JOIN,
    Params,
    also,
    fetch,
    filter_where,
    sample_columns,
    visibility_params,
    visible,
)
from search.filters import SearchFilters
from search.filters.declared import key_pairs

DISTANCE = sql.SQL("s.embedding <=> %(vector)s::vector")


def vector_text(vector: Sequence[float]) -> str:
    """A vector as pgvector's text input (sent as a parameter)."""
    return "[" + ",".join(repr(float(value)) for value in vector) + "]"


def knn(
    user, filters: SearchFilters, exclude: Sequence[UUID], *, exact: bool
) -> tuple[sql.Composable, Params]:
    """The ``%(k)s`` visible, filtered samples nearest ``%(vector)s``, with distances.

    ``exact`` orders by an expression no vector index serves, so the filtered
    rows are compared one by one. Several categories, and in an exact search
    each of the compatible keys, are searched apart and merged: one category's
    partial graph, or one (category, key, mode) range of the covering index,
    each.
    """
    categories = filters.categories if len(filters.categories) > 1 else ()
    pairs = key_pairs(filters) if exact else []
    skip = {"category"} if categories else set()
    if pairs:
        skip.add("key")
    where, params = filter_where(
        user, filters, alias="s", id_column="id", skip=skip, on_samples=True
    )
    if exclude:
        where.append(sql.SQL("s.id <> ALL(%(exclude)s::uuid[])"))
        params["exclude"] = list(exclude)
    order = sql.SQL("({}) + 0").format(DISTANCE) if exact else DISTANCE

    def nearest(branch: list[sql.Composable]) -> sql.Composable:
        return sql.SQL(
            "SELECT s.id AS sample_id, {distance} AS distance FROM library_sample s"
            " WHERE {visible} AND s.embedding IS NOT NULL{where}"
            " ORDER BY {order} LIMIT %(k)s"
        ).format(
            distance=DISTANCE,
            visible=visible(user, "s"),
            where=also([*where, *branch]),
            order=order,
        )

    if not categories and not pairs:
        return nearest([]), params
    branches = []
    for n, (category, pair) in enumerate(product(categories or [None], pairs or [None])):
        branch = []
        if category is not None:
            params[f"category{n}"] = category
            branch.append(sql.SQL("s.category = {}").format(sql.Placeholder(f"category{n}")))
        if pair is not None:
            params[f"key{n}"], params[f"mode{n}"] = pair
            branch.append(
                sql.SQL("s.key = {} AND s.mode = {}").format(
                    sql.Placeholder(f"key{n}"), sql.Placeholder(f"mode{n}")
                )
            )
        branches.append(sql.SQL("({})").format(nearest(branch)))
    return sql.SQL(" UNION ALL ").join(branches), params


def nearest_page(
    user, filters: SearchFilters, exclude: Sequence[UUID], *, exact: bool
) -> tuple[sql.Composable, Params]:
    """:func:`knn` with the samples and owners loaded: rows ``(id, distance, columns...)``."""
    nearest, params = knn(user, filters, exclude, exact=exact)
    statement = sql.SQL(
        "WITH page AS ({nearest}) SELECT page.sample_id, page.distance, {columns}"
        " FROM page{join} ORDER BY page.distance, page.sample_id LIMIT %(k)s"
    ).format(nearest=nearest, columns=sample_columns(), join=SAMPLE_JOIN)
    return statement, params


def planner_rows(user, filters: SearchFilters) -> float:
    """How many visible samples the planner expects ``filters`` to leave (EXPLAIN, no scan)."""
    where, params = filter_where(user, filters, alias="s", id_column="id", on_samples=True)
    statement = sql.SQL(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM library_sample s WHERE {visible}{where}"
    ).format(visible=visible(user, "s"), where=also(where))
    ((plan,),) = fetch(statement, {**params, **visibility_params(user)})
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])
