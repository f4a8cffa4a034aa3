"""PostgresSearchBackend: the ranking queries over ``search_sampledocument``."""

# SQL is assembled from constants and column names chosen here; every value is a
# parameter.
# ruff: noqa: S608

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any
from uuid import UUID

from psycopg import sql

from library.models import Visibility
from search.backends.base import (
    SORTABLE,
    BaseSearchBackend,
    Facets,
    Hit,
    ResultPage,
    SearchFilters,
    Suggestion,
)
from search.backends.postgres.sql import (
    OWN_DOCUMENT,
    SAMPLE_JOIN,
    fetch,
    filter_conditions,
    filter_sql,
    owned_by,
    owner_of,
    rendered,
    sample_columns,
    samples_from,
)
from search.backends.postgres.text import (
    AUTOCOMPLETE_COUNT_CAP,
    AUTOCOMPLETE_SQL,
    MARK_END,
    MARK_START,
    NEAR_WORDS_SQL,
    TEXT_CONFIG,
    VISIBLE_WORD_PROBE,
    highlighted,
    query_words,
    raw_tsquery,
    split_camel,
    split_exclusions,
    words,
)
from search.filters import FilterContext, registry
from search.filters.declared import key_pairs
from search.models import POSTING_WEIGHTS

SHORT_DESCRIPTION = 200  # characters; up to this a description's snippet is all of it
# A word the text parser reads as one token, so that it makes one lexeme at most.
_SIMPLE_WORD = re.compile(r"[A-Za-z]+|[0-9]+")


class PostgresSearchBackend(BaseSearchBackend):
    """Search with PostgreSQL alone (full-text, pg_trgm, pgvector).

    Options (``SEARCH_BACKENDS["default"]["OPTIONS"]``):

    - ``ef_search`` (100): HNSW candidate list size; higher is slower and more exact.
    - ``filtered_ef_search`` (800): the same when filters narrow the samples. A
      query far from the filtered samples ("like this snare, but kicks") needs a
      wider search to find their true nearest; inside one category's small
      partial index that stays cheap.
    - ``exact_max`` (5000): other filters expected to leave at most this many
      samples are answered exactly, without the HNSW index.
    - ``exact_loops_max`` (20000): loops-only searches expected to leave at most
      this many samples are answered exactly, through a covering index of the
      loops' embeddings.
    - ``exact_indexed_max`` (20000): category and key filters expected to leave
      at most this many samples are answered exactly, through a covering index
      of every embedding by category and key (migration 0009).
    - ``iterative_scan`` ("relaxed_order"): pgvector's iterative index scan mode;
      "off" lets filters shrink the answer below ``k``.
    - ``max_scan_tuples`` (20000): how far a filtered vector scan may go to fill ``k``.
    - ``hybrid_candidates`` (100): how many results of each ranking hybrid search fuses.
    - ``rrf_k`` (60): the reciprocal rank fusion constant.
    - ``count_cap`` (10000): searches without text stop counting matches here.
    - ``fuzzy_min_similarity`` (0.25): trigram similarity a near word needs.
    - ``fuzzy_alternatives`` (4): near words tried per query word.
    - ``fuzzy_relative_similarity`` (0.6): a near word is tried only when its
      similarity is at least this share of the nearest one's.
    - ``weights`` ([0.1, 0.2, 0.4, 1.0]): ts_rank weights for D, C, B, A.
    - ``postings`` (True): rank one-word searches without filters from the
      ranked postings (migration 0008) rather than from every match's
      document; only with the default ``weights``, which the postings hold.
    - ``estimate_seconds`` (60): how long the planner's estimate of how many samples
      a filter leaves is reused when choosing between exact and HNSW search.
    """

    def __init__(self, alias: str = "default", **options: Any) -> None:
        super().__init__(alias, **options)
        self.ef_search = int(options.get("ef_search", 100))
        self.filtered_ef_search = int(options.get("filtered_ef_search", 800))
        self.exact_max = int(options.get("exact_max", 5000))
        self.exact_loops_max = int(options.get("exact_loops_max", 20_000))
        self.exact_indexed_max = int(options.get("exact_indexed_max", 20_000))
        self.iterative_scan = str(options.get("iterative_scan", "relaxed_order"))
        self.max_scan_tuples = int(options.get("max_scan_tuples", 20_000))
        self.hybrid_candidates = int(options.get("hybrid_candidates", 100))
        self.rrf_k = int(options.get("rrf_k", 60))
        self.count_cap = int(options.get("count_cap", 10_000))
        self.fuzzy_min_similarity = float(options.get("fuzzy_min_similarity", 0.25))
        self.fuzzy_alternatives = int(options.get("fuzzy_alternatives", 4))
        self.fuzzy_relative_similarity = float(options.get("fuzzy_relative_similarity", 0.6))
        self.weights = list(options.get("weights", [0.1, 0.2, 0.4, 1.0]))
        self.estimate_seconds = float(options.get("estimate_seconds", 60))
        self.postings = bool(options.get("postings", True))
        self._estimates: dict[tuple[SearchFilters, bool], tuple[float, float]] = {}

    # ------------------------------------------------------------------ the interface

    def search(
        self,
        *,
        user,
        text: str = "",
        filters: SearchFilters | None = None,
        fuzzy: str = "auto",
        ordering: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> ResultPage:
        filters = filters or SearchFilters()
        if not text.strip():
            return self._browse(user, filters, ordering, offset, limit)
        return self._text_search(user, filters, text, fuzzy, ordering, offset, limit)

    def nearest(
        self,
        *,
        user,
        vector: Sequence[float],
        filters: SearchFilters | None = None,
        k: int = 10,
        exclude: Sequence[UUID] = (),
    ) -> ResultPage:
        filters = filters or SearchFilters()
        settings, exact = self._vector_settings(user, filters, k)
        params = {**self._visibility_params(user), "vector": _vector_text(vector), "k": k}
        knn, knn_params = self._knn_sql(user, filters, exclude, exact=exact)
        columns = sample_columns()
        sql = (
            f"WITH page AS ({knn}) SELECT page.sample_id, page.distance, {columns}"
            f" FROM page {SAMPLE_JOIN} ORDER BY page.distance, page.sample_id LIMIT %(k)s"
        )
        rows = fetch(sql, {**params, **knn_params}, settings=settings)
        page = ResultPage(hits=[], total=len(rows))
        for position, (_pk, distance, *values) in enumerate(rows, start=1):
            sample = samples_from(values)
            if sample is not None:
                parts = {"distance": distance, "vector_position": position}
                page.hits.append(Hit(sample=sample, score=1.0 - distance, parts=parts))
        return page

    def hybrid(
        self,
        *,
        user,
        text: str,
        vector: Sequence[float],
        filters: SearchFilters | None = None,
        offset: int = 0,
        limit: int = 20,
        exclude: Sequence[UUID] = (),
    ) -> ResultPage:
        filters = filters or SearchFilters()
        settings, exact = self._vector_settings(user, filters, self.hybrid_candidates)
        knn, knn_params = self._knn_sql(user, filters, exclude, exact=exact)
        knn_params["vector"] = _vector_text(vector)
        query = _TextQuery.plain(text)
        page = self._hybrid_page(
            user, filters, query, knn, knn_params, settings, exclude, offset, limit
        )
        if page is None:  # the words find nothing as typed: near spellings
            query, expanded = self._fuzzy_query(user, text)
            page = self._hybrid_page(
                user, filters, query, knn, knn_params, settings, exclude, offset, limit, last=True
            )
            page.fuzzy, page.expanded = True, expanded
        return page

    def facets(
        self,
        *,
        user,
        text: str = "",
        filters: SearchFilters | None = None,
        fuzzy: str = "off",
        expanded: dict[str, list[str]] | None = None,
    ) -> Facets:
        """Counts by each faceted filter's values: one statement, one pass over the matches.

        Each facet leaves out its own filter, so the other choices stay visible:
        the matches are gathered with the other filters, each row says which
        facet filters it passes, and each grouping counts the rows that pass
        the others.
        """
        filters = filters or SearchFilters()
        faceted = registry.faceted()
        if not faceted:
            return Facets()
        query = None
        if text.strip():
            if fuzzy == "on":
                query = self._fuzzy_query(user, text, expanded)[0]
            else:
                query = _TextQuery.plain(text)
            if query is None:
                return Facets({item.name: [] for item in faceted})
        conditions, params = filter_conditions(user, filters, alias="d", id_column="sample_id")
        names = {item.name for item in faceted}
        where = "".join(f" AND {part}" for name, part in conditions.items() if name not in names)
        ctx = FilterContext(user=user, alias="d", id_column="sample_id", params=params)
        columns, passes, groups = [], [], []
        for n, item in enumerate(faceted):
            aliases = []
            for m, expr in enumerate(item.facet_columns(ctx)):
                aliases.append(sql.Identifier(f"f{n}_{m}"))
                columns.append(sql.SQL("{} AS {}").format(expr, aliases[-1]))
            passes.append(
                sql.SQL("({}) AS {}").format(
                    sql.SQL(conditions.get(item.name, "true")), sql.Identifier(f"ok{n}")
                )
            )
            groups.append(aliases)
        select = rendered(sql.SQL(", ").join([*columns, *passes]))
        if query is None:
            visible = self._visible_sql(user, "d")
            matches = f"SELECT {select} FROM search_sampledocument d WHERE {visible}{where}"
        else:
            matches = self._matching_sql(user, query, select, where)
            params["text"] = query.value
        params |= self._visibility_params(user)
        every = [alias for group in groups for alias in group]
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
            "SELECT {groupings}, {values}, {counts}"
            " FROM ({matches}) m GROUP BY GROUPING SETS ({sets})"
        ).format(
            groupings=sql.SQL(", ").join(
                sql.SQL("GROUPING({})").format(sql.SQL(", ").join(group)) for group in groups
            ),
            values=sql.SQL(", ").join(every),
            counts=sql.SQL(", ").join(counts),
            matches=sql.SQL(matches),
            sets=sql.SQL(", ").join(
                sql.SQL("({})").format(sql.SQL(", ").join(group)) for group in groups
            ),
        )
        rows: dict[str, list[tuple[tuple, int]]] = {item.name: [] for item in faceted}
        width = len(faceted)
        for row in fetch(rendered(statement), params):
            # GROUPING() is 0 for the columns a row's grouping set groups by.
            n = list(row[:width]).index(0)
            start = width + sum(len(group) for group in groups[:n])
            values = tuple(row[start : start + len(groups[n])])
            rows[faceted[n].name].append((values, row[width + len(every) + n]))
        return Facets({item.name: item.facet_counts(rows[item.name]) for item in faceted})

    def autocomplete(self, *, user, text: str, limit: int = 8) -> list[Suggestion]:
        if not text or text[-1].isspace():
            return []
        head, _, last = text.rpartition(" ")
        last_words = words(last)
        if not last_words or not last.lower().endswith(last_words[-1]):
            return []
        prefix = last_words[-1]
        params = {
            **self._word_params(user),
            "pattern": prefix + "%",
            "prefix": prefix,
            "context": " ".join([head, *last_words[:-1]]).strip(),
            "cap": AUTOCOMPLETE_COUNT_CAP,
            "many": max(limit * 2, 12),
            "few": 4,
            "try_fuzzy": len(prefix) >= 3,
            "limit": limit,
        }
        rows = self._word_rows(AUTOCOMPLETE_SQL, params)
        stem = text[: len(text) - len(prefix)]
        return [
            Suggestion(text=f"{stem}{word}", word=word, samples=n, fuzzy=is_fuzzy)
            for word, is_fuzzy, n in rows
        ]

    # ------------------------------------------------------------------ building blocks

    def _fuzzy_query(
        self,
        user,
        text: str,
        expanded: dict[str, list[str]] | None = None,
        *,
        near_rows: list[tuple] | None = None,
    ) -> tuple[_TextQuery | None, dict[str, list[str]]]:
        """The query with each wanted word replaced by the visible words nearest to it.

        ``expanded`` gives the near words already found for ``text`` (a page's
        ``expanded``), ``near_rows`` the :data:`NEAR_WORDS_SQL` rows already
        fetched for its words; they are looked up when both are ``None``.
        """
        wanted, excluded = query_words(text)
        if not wanted:
            return None, {}
        if expanded is None:
            if near_rows is None:
                near_rows = self._word_rows(NEAR_WORDS_SQL, self._near_params(user, wanted))
            expanded, best = {}, {}
            for word, near, similarity, *_position in near_rows:
                # Nearest first: a word much further than the nearest is noise
                # ("snap" for "snre", beside "snr" and "snare").
                best.setdefault(word, similarity)
                if similarity >= best[word] * self.fuzzy_relative_similarity:
                    expanded.setdefault(word, []).append(near)
        else:  # only words as the word list spells them go into the raw tsquery
            expanded = {
                word: [near for near in nears if words(near) == [near]]
                for word, nears in expanded.items()
                if word in wanted
            }
            expanded = {word: nears for word, nears in expanded.items() if nears}
        if not expanded:
            return None, {}
        # A word with no visible near spelling stays itself, so that it still has to
        # match (and, like any unknown word, finds nothing).
        groups = [expanded.get(word, [word]) for word in wanted]
        return _TextQuery.raw(groups, excluded), expanded

    def _near_params(self, user, wanted: Sequence[str]) -> dict[str, Any]:
        """The parameters of :data:`NEAR_WORDS_SQL` for the query words ``wanted``."""
        return {
            **self._word_params(user),
            "words": list(wanted),
            "alternatives": self.fuzzy_alternatives,
        }

    def _word_params(self, user) -> dict[str, Any]:
        """What the word-list queries (text.py) need to keep to the words ``user`` may see."""
        return {
            "config": TEXT_CONFIG,
            "probe": VISIBLE_WORD_PROBE,
            **self._visibility_params(user),
        }

    def _word_rows(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        """Run a word-list query with trigram ``%`` set to ``fuzzy_min_similarity``."""
        return fetch(sql, params, settings=self._word_settings())

    def _word_settings(self) -> dict[str, str]:
        return {"pg_trgm.similarity_threshold": str(self.fuzzy_min_similarity)}

    def _visibility_params(self, user) -> dict[str, Any]:
        return {"public": Visibility.PUBLIC, "me": owner_of(user)}

    def _visible_sql(self, user, alias: str) -> str:
        """``alias``'s rows ``user`` may see: their own and public ones."""
        if not user.is_authenticated:
            return f"{alias}.visibility = %(public)s"
        return f"({alias}.visibility = %(public)s OR {alias}.owner_id = %(me)s)"

    def _order_sql(self, ordering: str | None, default: str) -> tuple[str, str]:
        """``ORDER BY`` terms for ``ordering`` then ``default``, and the column it sorts by."""
        name = (ordering or "").lstrip("-")
        if name not in SORTABLE:
            return default, ""
        first = f"{name} DESC NULLS LAST" if ordering.startswith("-") else name
        return f"{first}, {default}", name

    def _ranked(
        self,
        user,
        filters: SearchFilters,
        query: _TextQuery,
        exclude: Sequence[UUID] = (),
        *,
        depth: str,
        sort_column: str = "",
    ) -> tuple[_Ranked, dict[str, Any]]:
        """Text matches as rows ``(sample_id, created_at, [sort_column,] rank)``.

        ``depth`` is the SQL of how many of the best a caller reads at most.
        """
        where, params = filter_sql(user, filters, alias="d", id_column="sample_id")
        params |= {
            "text": query.value,
            "rank_text": query.rank_value,
            "weights": self.weights,
            **self._visibility_params(user),
        }
        if exclude:
            params["exclude"] = list(exclude)
        if self._postings_rank(query, where, sort_column):
            params["spelled"] = " ".join(query.spelled)
            params["unspelled"] = " ".join(query.unspelled)
            return self._posting_ranked(user, query, exclude, depth), params
        # Without filters or another order, other people's matches are ranked in
        # the narrow table of public rows, which has just these columns.
        narrow = not where and sort_column in ("", "created_at")
        if exclude:
            where += " AND d.sample_id <> ALL(%(exclude)s::uuid[])"
        columns = "d.sample_id, d.created_at"
        if sort_column and sort_column != "created_at":
            columns += f", d.{sort_column}"
        rank = f"ts_rank(%(weights)s::float4[], {{document}}, {query.rank_sql}) AS rank"
        matches = self._matching_sql(user, query, f"{columns}, {rank}", where, narrow_public=narrow)
        ranked = _Ranked(
            ctes=f"matches AS MATERIALIZED ({matches}), ",
            rows="SELECT * FROM matches",
            total="(SELECT count(*) FROM matches)",
        )
        return ranked, params

    def _postings_rank(self, query: _TextQuery, where: str, sort_column: str) -> bool:
        """Whether ``query``'s public matches can be ranked from ``search_publicposting``.

        Its postings hold one word's rank each, computed with the default
        weights: enough for a query of one word, or of near spellings of one
        word (any of them), less any excluded words, ranked by relevance
        without filters.
        """
        return (
            self.postings
            and bool(query.spelled)
            and not where
            and not sort_column
            and tuple(self.weights) == POSTING_WEIGHTS
        )

    def _posting_ranked(
        self, user, query: _TextQuery, exclude: Sequence[UUID], depth: str
    ) -> _Ranked:
        """The best ``depth`` public matches from the postings, and every match of the caller's.

        One word: the first rows of its postings, in the index's order, and
        their number from the index. Several (near spellings that stem apart):
        each sample's postings summed and divided by their number, as
        ``ts_rank`` ranks a query of alternatives.
        """
        lexemes = f"tsvector_to_array(to_tsvector('{TEXT_CONFIG}'::regconfig, %(spelled)s))"
        where = ""
        if user.is_authenticated:
            where += " AND p.owner_id <> %(me)s"
        if exclude:
            where += " AND p.sample_id <> ALL(%(exclude)s::uuid[])"
        if query.unspelled:
            where += (
                " AND NOT EXISTS (SELECT 1 FROM search_publicposting x"
                " WHERE x.sample_id = p.sample_id AND x.lexeme = ANY(tsvector_to_array("
                f"to_tsvector('{TEXT_CONFIG}'::regconfig, %(unspelled)s))))"
            )
        one = (
            f"FROM search_publicposting p WHERE cardinality({lexemes}) = 1"
            f" AND p.lexeme = ({lexemes})[1]{where}"
        )
        one_best = (
            f"SELECT p.sample_id, p.created_at, p.rank::real AS rank {one}"
            f" ORDER BY p.rank DESC, p.created_at DESC, p.sample_id LIMIT {depth}"
        )
        ctes, rows, total = [], [f"({one_best})"], [f"(SELECT count(*) {one})"]
        if len(query.spelled) > 1:  # near spellings may stem to several lexemes
            several = (
                "SELECT p.sample_id, max(p.created_at) AS created_at,"
                f" (sum(p.rank) / cardinality({lexemes}))::real AS rank"
                f" FROM search_publicposting p WHERE cardinality({lexemes}) > 1"
                f" AND p.lexeme = ANY({lexemes}){where} GROUP BY p.sample_id"
            )
            ctes.append(f"several AS MATERIALIZED ({several})")
            rows.append(
                "(SELECT * FROM several"
                f" ORDER BY rank DESC, created_at DESC, sample_id LIMIT {depth})"
            )
            total.append("(SELECT count(*) FROM several)")
        if user.is_authenticated:
            own_exclude = " AND d.sample_id <> ALL(%(exclude)s::uuid[])" if exclude else ""
            select = "d.sample_id, d.created_at, ts_rank(%(weights)s::float4[], {document},"
            select += f" {query.rank_sql}) AS rank"
            ctes.append(f"own AS MATERIALIZED ({_own_sql(query, select, own_exclude)})")
            rows.append("SELECT * FROM own")
            total.append("(SELECT count(*) FROM own)")
        return _Ranked(
            ctes="".join(f"{cte}, " for cte in ctes),
            rows=" UNION ALL ".join(rows),
            total="(" + " + ".join(total) + ")",
        )

    def _matching_sql(
        self, user, query: _TextQuery, select: str, where: str, *, narrow_public: bool = False
    ) -> str:
        """``SELECT select`` over the documents ``user`` may see that match ``query`` and ``where``.

        ``{document}`` in ``select`` stands for what the row's reader searches.
        Two branches, each served by its own index: other people's public
        samples through a GIN index on public documents (those of
        ``search_publicdocument`` with ``narrow_public``, when ``select`` and
        ``where`` need no other columns), and the caller's own (matched also by
        their private collections' names) through the GIN index of their words
        and owner together. One ``OR`` of both would read every match of other
        users' private samples and every row of the caller's.
        """
        if narrow_public:
            public = (
                f"SELECT {select.format(document='d.document')} FROM search_publicdocument d"
                f" WHERE d.document @@ {query.sql}{where}"
            )
        else:
            public = (
                f"SELECT {select.format(document='d.document')} FROM search_sampledocument d"
                f" WHERE d.visibility = %(public)s AND d.document @@ {query.sql}{where}"
            )
        if not user.is_authenticated:
            return public
        return f"{public} AND d.owner_id <> %(me)s UNION ALL {_own_sql(query, select, where)}"

    def _text_search(
        self,
        user,
        filters: SearchFilters,
        text: str,
        fuzzy: str,
        ordering: str | None,
        offset: int,
        limit: int,
    ) -> ResultPage:
        """Rank matches of ``text``, approximately when ``fuzzy`` says so.

        With ``fuzzy="auto"`` the page of the words as typed also brings their
        near spellings, looked up only when it finds nothing: a misspelt
        search costs one round trip less.
        """
        near_rows = None
        if fuzzy != "on":
            near_words = query_words(text)[0] if fuzzy == "auto" else []
            page, near_rows = self._text_page(
                user, filters, _TextQuery.plain(text), ordering, offset, limit, near_words
            )
            if page.total or fuzzy == "off":
                return page
        query, expanded = self._fuzzy_query(user, text, near_rows=near_rows)
        if query is None:
            return ResultPage(hits=[], total=0, fuzzy=True)
        page, _ = self._text_page(user, filters, query, ordering, offset, limit)
        page.fuzzy, page.expanded = True, expanded
        return page

    def _text_page(
        self,
        user,
        filters: SearchFilters,
        query: _TextQuery,
        ordering: str | None,
        offset: int,
        limit: int,
        near_words: Sequence[str] = (),
    ) -> tuple[ResultPage, list[tuple] | None]:
        """One page of ``query``'s matches, their number, samples and highlights: one statement.

        The statement always returns a row, its first column the number of
        matches. When there are none and ``near_words`` are given, the second
        column holds their near spellings (:data:`NEAR_WORDS_SQL` rows),
        returned beside the page.
        """
        order, sort_column = self._order_sql(ordering, "rank DESC, created_at DESC, sample_id")
        ranked, params = self._ranked(
            user, filters, query, depth="%(depth)s", sort_column=sort_column
        )
        columns = sample_columns()
        highlights, highlight_params = _highlights_sql(query)
        near, settings = "NULL::json", None
        if near_words:
            # Looked up (an InitPlan run at first use) only when nothing matches.
            near = (
                "CASE WHEN total = 0 THEN (SELECT json_agg(json_build_array("
                "n.wanted, n.near, n.similarity) ORDER BY n.position, n.similarity DESC, n.near)"
                f" FROM ({NEAR_WORDS_SQL}) n) END"
            )
            params |= self._near_params(user, near_words)
            settings = self._word_settings()
        # The number of matches in a row of its own, so that a page past the end
        # still says how many there are.
        sql = (
            f"WITH {ranked.ctes}"
            f"page AS (SELECT * FROM ({ranked.rows}) ranked"
            f" ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s),"
            # Counted once, though read twice.
            f" counted AS MATERIALIZED (SELECT {ranked.total} AS total)"
            " SELECT head.total, head.near, page.sample_id, page.rank,"
            f" {columns}, {highlights}"
            f" FROM (SELECT total, {near} AS near FROM counted) head"
            f" LEFT JOIN page ON true {SAMPLE_JOIN} ORDER BY {_prefixed(order, 'page')}"
        )
        params |= {**highlight_params, "limit": limit, "offset": offset, "depth": offset + limit}
        rows = fetch(sql, params, settings=settings)
        page = ResultPage(hits=[], total=rows[0][0])
        near_rows = [tuple(row) for row in rows[0][1] or []] if near_words else None
        rows = [row[2:] for row in rows if row[2] is not None]
        for position, (_pk, rank, *values) in enumerate(rows, start=offset + 1):
            hit = self._hit(values, query)
            if hit is not None:
                hit.score = rank
                hit.parts = {"text_rank": rank, "text_position": position}
                page.hits.append(hit)
        return page, near_rows

    def _hit(self, values: Sequence[Any], query: _TextQuery | None) -> Hit | None:
        """A hit from a row's sample columns (and two highlight columns when ``query``)."""
        if query is None:
            sample = samples_from(values)
            return None if sample is None else Hit(sample=sample)
        sample = samples_from(values[:-2])
        if sample is None:
            return None
        name, description = values[-2:]
        return Hit(
            sample=sample,
            highlight={"name": highlighted(name), "description": highlighted(description)},
        )

    def _browse(
        self, user, filters: SearchFilters, ordering: str | None, offset: int, limit: int
    ) -> ResultPage:
        """Newest first (or by ``ordering``); matches counted up to ``count_cap``.

        With filters, their matches are first gathered through the filters' own
        indexes, up to the cap, and sorted there: walking the ``created_at``
        index newest first until a page is found is quick when many samples
        match, but passes the whole table when filters that look common together
        match few or none ("kicks at 90-130 BPM": kicks have no tempo). Only when
        the cap is reached is the index walked.
        """
        order, extra = self._order_sql(ordering, "created_at DESC, sample_id")
        extra_column = f", d.{extra}" if extra and extra != "created_at" else ""
        visible, params = self._filtered_rows(
            user, filters, f"d.sample_id, d.created_at{extra_column}"
        )
        params |= {
            **self._visibility_params(user),
            "cap": self.count_cap,
            "limit": limit,
            "offset": offset,
        }
        columns = sample_columns()
        if filters != SearchFilters():
            sql = (
                f"WITH matches AS ({visible} LIMIT %(cap)s),"
                " page AS (SELECT *, count(*) OVER () AS total FROM matches"
                f" ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s)"
                f" SELECT page.total, {columns} FROM page {SAMPLE_JOIN}"
                f" ORDER BY {_prefixed(order, 'page')}"
            )
            rows = fetch(sql, params)
            total = rows[0][0] if rows else None
            if total is None and offset:
                count = f"SELECT count(*) FROM ({visible} LIMIT %(cap)s) matches"
                total = fetch(count, params)[0][0]
            if (total or 0) < self.count_cap:
                return self._browsed(rows, total or 0, None)
        sql = (
            f"WITH page AS ({visible} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s),"
            f" counted AS (SELECT count(*) AS total FROM ({visible} LIMIT %(cap)s) capped)"
            f" SELECT counted.total, {columns} FROM counted LEFT JOIN page ON true {SAMPLE_JOIN}"
            f" ORDER BY {_prefixed(order, 'page')}"
        )
        rows = fetch(sql, params)
        return self._browsed(rows, rows[0][0], self.count_cap)

    def _filtered_rows(self, user, filters: SearchFilters, columns: str) -> tuple[str, dict]:
        """``SELECT columns`` of the search rows ``user`` may see that pass ``filters``.

        Compatible keys are one branch per key, each read from its range of
        the filters' covering index (migration 0009).
        """
        pairs = key_pairs(filters)
        where, params = filter_sql(
            user, filters, alias="d", id_column="sample_id", skip={"key"} if pairs else ()
        )
        select = (
            f"SELECT {columns} FROM search_sampledocument d"
            f" WHERE {self._visible_sql(user, 'd')}{where}"
        )
        if not pairs:
            return select, params
        branches = []
        for n, (key, mode) in enumerate(pairs):
            params[f"pair_key{n}"], params[f"pair_mode{n}"] = key, mode
            branches.append(f"{select} AND d.key = %(pair_key{n})s AND d.mode = %(pair_mode{n})s")
        return " UNION ALL ".join(branches), params

    def _browsed(self, rows: list[tuple], total: int, capped_at: int | None) -> ResultPage:
        page = ResultPage(hits=[], total=total, total_capped_at=capped_at)
        for _total, *values in rows:
            hit = self._hit(values, None)
            if hit is not None:
                page.hits.append(hit)
        return page

    def _vector_settings(self, user, filters: SearchFilters, k: int) -> tuple[dict[str, str], bool]:
        """The HNSW settings for a kNN query with ``filters``, and whether to answer exactly.

        Unfiltered: the whole graph. When filters leave few samples (the
        planner's estimate), they are compared with exactly, since a graph walk
        would have to pass thousands of others to find them, and miss some:
        loops through a covering index of the loops' embeddings (their graph
        is too clustered for a walk to find a far query's true nearest, recall
        below 0.8), categories and keys through a covering index of every
        embedding by category and key, other filters through their own
        indexes. Otherwise category and loop/one-shot filters walk their own
        partial graphs, searched wider.
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

    def _knn_sql(
        self, user, filters: SearchFilters, exclude: Sequence[UUID], *, exact: bool
    ) -> tuple[str, dict[str, Any]]:
        """The ``%(k)s`` visible, filtered samples nearest ``%(vector)s``, with distances.

        ``exact`` orders by an expression no vector index serves, so the filtered
        rows are compared one by one. Several categories, and in an exact
        search each of the compatible keys, are searched apart and merged: one
        category's partial graph, or one (category, key, mode) range of the
        covering index, each.
        """
        categories = filters.categories if len(filters.categories) > 1 else ()
        pairs = key_pairs(filters) if exact else []
        skip = {"category"} if categories else set()
        if pairs:
            skip.add("key")
        where, params = filter_sql(user, filters, alias="s", id_column="id", skip=skip)
        if exclude:
            where += " AND s.id <> ALL(%(exclude)s::uuid[])"
            params["exclude"] = list(exclude)
        distance = "s.embedding <=> %(vector)s::vector"
        nearest = (
            f"SELECT s.id AS sample_id, {distance} AS distance FROM library_sample s"
            f" WHERE {self._visible_sql(user, 's')} AND s.embedding IS NOT NULL{where}"
            "{branch}"
            f" ORDER BY {f'({distance}) + 0' if exact else distance} LIMIT %(k)s"
        )
        if not categories and not pairs:
            return nearest.format(branch=""), params
        branches = []
        for n, (category, pair) in enumerate(product(categories or [None], pairs or [None])):
            branch = ""
            if category is not None:
                params[f"category{n}"] = category
                branch += f" AND s.category = %(category{n})s"
            if pair is not None:
                params[f"key{n}"], params[f"mode{n}"] = pair
                branch += f" AND s.key = %(key{n})s AND s.mode = %(mode{n})s"
            branches.append(f"({nearest.format(branch=branch)})")
        return " UNION ALL ".join(branches), params

    def _estimated_rows(self, user, filters: SearchFilters) -> float:
        """How many visible samples the planner expects ``filters`` to leave (EXPLAIN, no scan).

        Kept for ``estimate_seconds``: the statistics behind it change slowly, and
        asking costs a round trip per filtered "sounds like" query.
        """
        key = (filters, user.is_authenticated)
        now = time.monotonic()
        known = self._estimates.get(key)
        if known is not None and now - known[1] < self.estimate_seconds:
            return known[0]
        rows = self._planner_rows(user, filters)
        if len(self._estimates) >= 1000:
            self._estimates.clear()
        self._estimates[key] = (rows, now)
        return rows

    def _planner_rows(self, user, filters: SearchFilters) -> float:
        where, params = filter_sql(user, filters, alias="s", id_column="id")
        visible = self._visible_sql(user, "s")
        sql = f"EXPLAIN (FORMAT JSON) SELECT 1 FROM library_sample s WHERE {visible}"
        ((plan,),) = fetch(f"{sql}{where}", {**params, **self._visibility_params(user)})
        if isinstance(plan, str):
            plan = json.loads(plan)
        return float(plan[0]["Plan"]["Plan Rows"])

    def _hybrid_page(
        self,
        user,
        filters: SearchFilters,
        query: _TextQuery | None,
        knn: str,
        knn_params: dict[str, Any],
        settings: dict[str, str],
        exclude: Sequence[UUID],
        offset: int,
        limit: int,
        *,
        last: bool = False,
    ) -> ResultPage | None:
        """Text ranking and vector ranking fused by RRF, paged and loaded: one statement.

        ``None`` when the text finds nothing and this is not the ``last`` try, so
        that near spellings can be tried.
        """
        params: dict[str, Any] = {
            **self._visibility_params(user),
            **knn_params,
            "k": self.hybrid_candidates,  # for each ranking: the text's and the kNN's
            "rrf": float(self.rrf_k),
            "limit": limit,
            "offset": offset,
            "last": last or query is None,
        }
        ctes = ""
        if query is not None:
            ranked, text_params = self._ranked(user, filters, query, exclude, depth="%(k)s")
            params |= text_params
            ctes = ranked.ctes
            # The best candidates first (a top-N sort), then numbered.
            text_ranked = (
                "SELECT sample_id, rank, row_number() OVER"
                " (ORDER BY rank DESC, created_at DESC, sample_id) AS position"
                f" FROM (SELECT * FROM ({ranked.rows}) ranked"
                " ORDER BY rank DESC, created_at DESC, sample_id LIMIT %(k)s) best"
            )
            highlights, highlight_params = _highlights_sql(query)
            params |= highlight_params
        else:
            text_ranked = (
                "SELECT NULL::uuid AS sample_id, NULL::real AS rank, NULL::bigint AS position"
                " WHERE false"
            )
            highlights = "NULL::text, NULL::text"
        columns = sample_columns()
        # In double precision, as Python adds the parts, so the order matches the scores shown.
        score = (
            "coalesce(1.0::float8 / (%(rrf)s::float8 + t.position), 0)"
            " + coalesce(1.0::float8 / (%(rrf)s::float8 + v.position), 0)"
        )
        sql = (
            f"WITH {ctes}text_ranked AS ({text_ranked}),"
            # Not walked at all when the words find nothing and near spellings come next.
            f" knn AS (SELECT * FROM ({knn}) nearest"
            " WHERE %(last)s OR EXISTS (SELECT 1 FROM text_ranked)),"
            " vector_ranked AS (SELECT sample_id, distance,"
            " row_number() OVER (ORDER BY distance, sample_id) AS position FROM knn),"
            " fused AS (SELECT coalesce(t.sample_id, v.sample_id) AS sample_id,"
            " t.rank, t.position AS text_position, v.distance, v.position AS vector_position,"
            f" {score} AS score"
            " FROM text_ranked t FULL JOIN vector_ranked v ON v.sample_id = t.sample_id),"
            " page AS (SELECT * FROM fused"
            " ORDER BY score DESC, vector_position NULLS LAST, sample_id"
            " LIMIT %(limit)s OFFSET %(offset)s)"
            " SELECT found.n, found.total, page.rank, page.text_position, page.distance,"
            f" page.vector_position, {columns}, {highlights}"
            " FROM (SELECT (SELECT count(*) FROM text_ranked) AS n,"
            " (SELECT count(*) FROM fused) AS total) found LEFT JOIN page ON true"
            f" {SAMPLE_JOIN}"
            " ORDER BY page.score DESC, page.vector_position NULLS LAST, page.sample_id"
        )
        rows = fetch(sql, params, settings=settings)
        if query is not None and not rows[0][0] and not last:
            return None
        page = ResultPage(hits=[], total=rows[0][1])
        for _text_total, _total, rank, text_position, distance, vector_position, *values in rows:
            hit = self._hit(values if query is not None else values[:-2], query)
            if hit is None:
                continue
            parts = {
                "text_rank": rank,
                "text_position": text_position,
                "distance": distance,
                "vector_position": vector_position,
                "text_rrf": self._rrf(text_position),
                "vector_rrf": self._rrf(vector_position),
            }
            hit.score = parts["text_rrf"] + parts["vector_rrf"]
            hit.parts = parts
            page.hits.append(hit)
        return page

    def _rrf(self, position: int | None) -> float:
        return 1.0 / (self.rrf_k + position) if position else 0.0


@dataclass(frozen=True)
class _TextQuery:
    """A tsquery as SQL over ``%(text)s`` (what matches), and one over ``%(rank_text)s``
    (what ranks the matches), with those parameters' values.

    The ranking query leaves the excluded words out: ``ts_rank`` gives an AND
    holding a NOT 1e-20 whatever the document, which would order "kick
    -snare" by date alone.

    ``spelled`` holds the wanted words when they are one word or alternatives
    to one word, and ``unspelled`` the excluded ones, each plain ASCII letters
    or digits (one lexeme at most each, as documents are split): the queries
    the postings can rank. Otherwise ``spelled`` is empty.
    """

    sql: str
    value: str
    rank_sql: str
    rank_value: str
    spelled: tuple[str, ...] = ()
    unspelled: tuple[str, ...] = ()

    @classmethod
    def plain(cls, text: str) -> _TextQuery:
        """Web-search syntax, normalised as documents are."""
        sql = f"websearch_to_tsquery('{TEXT_CONFIG}'::regconfig, search_normalise(%({{}})s))"
        text = split_camel(text)
        kept, excluded = split_exclusions(text)
        spelled = tuple(kept) if len(kept) == 1 else ()
        return cls._posted(
            sql.format("text"),
            text,
            sql.format("rank_text" if excluded else "text"),
            " ".join(kept),
            spelled,
            tuple(excluded),
        )

    @classmethod
    def raw(cls, groups: list[list[str]], excluded: Sequence[str] = ()) -> _TextQuery:
        """The tsquery :func:`raw_tsquery` builds from ``groups`` and ``excluded``."""
        sql = f"to_tsquery('{TEXT_CONFIG}'::regconfig, %({{}})s)"
        return cls._posted(
            sql.format("text"),
            raw_tsquery(groups, list(excluded)),
            sql.format("rank_text" if excluded else "text"),
            raw_tsquery(groups, []),
            tuple(groups[0]) if len(groups) == 1 else (),
            tuple(excluded),
        )

    @classmethod
    def _posted(cls, sql, value, rank_sql, rank_value, spelled, unspelled) -> _TextQuery:
        simple = all(_SIMPLE_WORD.fullmatch(word) for word in (*spelled, *unspelled))
        if not simple:
            spelled, unspelled = (), ()
        return cls(sql, value, rank_sql, rank_value, spelled, unspelled)


@dataclass(frozen=True)
class _Ranked:
    """A text search's matches as SQL pieces for one statement.

    ``ctes`` go first in its ``WITH`` (each ends in ", "). ``rows`` gives
    ``(sample_id, created_at, rank)`` rows among which are the best the
    caller asked for (maybe not every match). ``total`` is an expression for
    the number of matches.
    """

    ctes: str
    rows: str
    total: str


def _own_sql(query: _TextQuery, select: str, where: str) -> str:
    """``SELECT select`` over the caller's (``%(me)s``) documents matching ``query`` and ``where``.

    Their private collections' names count for them; the (words, owner) GIN
    index reads them without everybody else's matches. ``{document}`` in
    ``select`` stands for what they search.
    """
    return (
        f"SELECT {select.format(document=OWN_DOCUMENT)} FROM search_sampledocument d"
        f" WHERE {owned_by('me')} AND {OWN_DOCUMENT} @@ {query.sql}{where}"
    )


def _vector_text(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(value)) for value in vector) + "]"


def _prefixed(order: str, alias: str) -> str:
    """``"rank DESC, sample_id"`` -> ``"page.rank DESC, page.sample_id"``."""
    return ", ".join(f"{alias}.{term.strip()}" for term in order.split(","))


def _highlights_sql(query: _TextQuery) -> tuple[str, dict[str, Any]]:
    """Two SELECT columns: the name and the description with matches marked.

    A short description is shown whole; a long one as fragments around the matches.
    """
    marks = f"StartSel='{MARK_START}', StopSel='{MARK_END}'"
    params = {
        "marks": MARK_START + MARK_END,
        "short_headline": f"{marks}, HighlightAll=true",
        "long_headline": (
            f"{marks}, MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=' … '"
        ),
        "short_description": SHORT_DESCRIPTION,
    }
    config = f"'{TEXT_CONFIG}'::regconfig"
    description = "translate(search_plain(s.description), %(marks)s, '')"
    sql = (
        f"ts_headline({config}, translate(s.name, %(marks)s, ''), {query.sql}, %(short_headline)s),"
        f" CASE WHEN length(s.description) > %(short_description)s"
        f" THEN ts_headline({config}, {description}, {query.sql}, %(long_headline)s)"
        f" ELSE ts_headline({config}, {description}, {query.sql}, %(short_headline)s) END"
    )
    return sql, params
