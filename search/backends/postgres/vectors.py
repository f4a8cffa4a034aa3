"""Sound similarity: the kNN statement over ``library_sample.embedding`` and how it is read.

``ORDER BY embedding <=> v LIMIT k`` on HNSW indexes (one for all samples,
migration 0002; one per category, made by :mod:`.schema`), with pgvector's
iterative index scan on so that filters do not starve the answer; settings
travel in the query's round trip.
Loops and filters that leave few samples are compared exactly, through
covering indexes where there are some (migrations 0003 and 0009).
"""

from __future__ import annotations

import json
import time
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


class VectorPlanning:
    """How a kNN query is read: the HNSW settings, and whether to compare exactly.

    Mixed into the backend, whose options (``ef_search``, ``exact_max``...)
    it reads; the planner's estimates are kept for ``estimate_seconds``.
    """

    def _vector_settings(self, user, filters: SearchFilters, k: int) -> tuple[dict, bool]:
        """The HNSW settings for a kNN query with ``filters``, and whether to answer exactly.

        Unfiltered: the whole graph. When filters leave few samples (the
        planner's estimate), they are compared with exactly, since a graph walk
        would have to pass thousands of others to find them, and miss some:
        loops through a covering index of the loops' embeddings (their graph
        is too clustered for a walk to find a far query's true nearest),
        categories and keys through a covering index of every embedding by
        category and key, other filters through their own indexes. Otherwise
        category and loop/one-shot filters walk their own partial graphs,
        searched wider.
        """
        exact = False
        ef_search = self.filtered_ef_search
        if filters == SearchFilters():
            ef_search = self.ef_search
        elif filters.is_loop and not filters.categories:
            exact = self._estimated_rows(user, filters) <= self.exact_loops_max
        elif filters.categories or filters.key:
            exact = self._estimated_rows(user, filters) <= self.exact_indexed_max
        elif filters.replace(categories=(), is_loop=None) != SearchFilters():
            exact = self._estimated_rows(user, filters) <= self.exact_max
        settings = {
            # relaxed_order lets the scan go on past filtered-out rows until k are
            # found; the few rows it returns out of order are sorted afterwards.
            "hnsw.iterative_scan": self.iterative_scan,
            "hnsw.ef_search": str(max(ef_search, k)),
            "hnsw.max_scan_tuples": str(self.max_scan_tuples),
        }
        return settings, exact

    def _estimated_rows(self, user, filters: SearchFilters) -> float:
        """How many visible samples the planner expects ``filters`` to leave.

        Kept for ``estimate_seconds``: the statistics behind it change slowly, and
        asking costs a round trip per filtered "sounds like" query.
        """
        key = (filters, user.is_authenticated)
        now = time.monotonic()
        known = self._estimates.get(key)
        if known is not None and now - known[1] < self.estimate_seconds:
            return known[0]
        rows = planner_rows(user, filters)
        if len(self._estimates) >= 1000:
            self._estimates.clear()
        self._estimates[key] = (rows, now)
        return rows
