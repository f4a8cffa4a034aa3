"""PostgresSearchBackend: which statement answers which question, and reading its rows.

The statements are composed in the modules beside this one, by concern:
:mod:`.text` (matching, ranking, highlights), :mod:`.words` (near spellings,
completions), :mod:`.browse` (filters without text), :mod:`.vectors` (sound
similarity), :mod:`.hybrid` (both fused) and :mod:`.facets`. Every value is a
parameter; :meth:`PostgresSearchBackend.statements` shows the finished ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from psycopg import sql

from search.backends.base import (
    SORTABLE,
    BaseSearchBackend,
    Facets,
    Hit,
    ResultPage,
    SearchFilters,
    Suggestion,
)
from search.backends.postgres import browse, common, indexing, schema, vectors
from search.backends.postgres import postings as ranked_postings
from search.backends.postgres.common import Order, fetch, fetch_none, visibility_params
from search.backends.postgres.facets import facet_counts, facets_statement
from search.backends.postgres.hybrid import hybrid_statement
from search.backends.postgres.text import TextQuery, highlighted, ranked, text_page
from search.backends.postgres.words import (
    AUTOCOMPLETE,
    AUTOCOMPLETE_COUNT_CAP,
    NEAR_WORDS,
    TEXT_CONFIG,
    VISIBLE_WORD_PROBE,
    near_spellings,
    query_words,
    words,
)
from search.filters import registry

TEXT_ORDER = Order((("rank", "DESC"), ("created_at", "DESC"), ("sample_id", "")))
BROWSE_ORDER = Order((("created_at", "DESC"), ("sample_id", "")))


class PostgresSearchBackend(vectors.VectorPlanning, BaseSearchBackend):
    """Search with PostgreSQL alone (full-text, pg_trgm, pgvector).

    Options (``SEARCH_BACKENDS["default"]["OPTIONS"]``):

    - ``ef_search`` (100): HNSW candidate list size; higher is slower and more exact.
    - ``filtered_ef_search`` (800): the same when filters narrow the samples.
    - ``exact_max`` (5000): other filters expected to leave at most this many
      samples are answered exactly, without the HNSW index.
    - ``exact_loops_max`` (20000): the same for loops-only searches, through a
      covering index of the loops' embeddings.
    - ``exact_indexed_max`` (20000): the same for category and key filters,
      through a covering index of every embedding by category and key.
    - ``iterative_scan`` ("relaxed_order") and ``max_scan_tuples`` (20000): pgvector's
      iterative index scan, and how far a filtered scan may go to fill ``k``.
    - ``hybrid_candidates`` (100): how many results of each ranking hybrid search fuses.
    - ``rrf_k`` (60): the reciprocal rank fusion constant.
    - ``count_cap`` (10000): searches without text stop counting matches here.
    - ``fuzzy_min_similarity`` (0.25): trigram similarity a near word needs.
    - ``fuzzy_alternatives`` (4): near words tried per query word.
    - ``fuzzy_relative_similarity`` (0.6): a near word is tried only when its
      similarity is at least this share of the nearest one's.
    - ``weights`` ([0.1, 0.2, 0.4, 1.0]): ts_rank weights for D, C, B, A;
      ``postings`` (True): rank one-word searches from the ranked postings
      (only with the default ``weights``, which they hold).
    - ``estimate_seconds`` (60): how long the planner's estimate of how many
      samples a filter leaves is reused when choosing exact or HNSW search.
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
        self.weights = list(options.get("weights", ranked_postings.RANK_WEIGHTS))
        self.estimate_seconds = float(options.get("estimate_seconds", 60))
        self.postings = bool(options.get("postings", True))
        self._estimates: dict[tuple[SearchFilters, bool], tuple[float, float]] = {}

    @staticmethod
    @contextlib.contextmanager
    def statements() -> Iterator[list[str]]:
        """The finished statements (parameters filled in) the searches inside the block run.

        ``with backend.statements() as seen: backend.search(...)``, then print ``seen``.
        """
        with common.recording() as seen:
            yield seen

    # ------------------------------------------------------------------ the interface

    def search(self, *, user, text="", filters=None, fuzzy="auto", ordering=None, offset=0,
               limit=20) -> ResultPage:  # fmt: skip
        filters = filters or SearchFilters()
        if not text.strip():
            return self._browse(user, filters, ordering, offset, limit)
        near_rows = None
        if fuzzy != "on":
            near_words = query_words(text)[0] if fuzzy == "auto" else []
            query = TextQuery.plain(text)
            page, near_rows = self._text_page(
                user, filters, query, ordering, offset, limit, near_words
            )
            if page.total or fuzzy == "off":
                return page
        # Near spellings: looked up with the page of the words as typed when it found nothing.
        query, expanded = self._fuzzy_query(user, text, near_rows=near_rows)
        if query is None:
            return ResultPage(hits=[], total=0, fuzzy=True)
        page, _ = self._text_page(user, filters, query, ordering, offset, limit)
        page.fuzzy, page.expanded = True, expanded
        return page

    def nearest(self, *, user, vector: Sequence[float], filters=None, k: int = 10,
                exclude: Sequence[UUID] = ()) -> ResultPage:  # fmt: skip
        filters = filters or SearchFilters()
        settings, exact = self._vector_settings(user, filters, k)
        statement, params = vectors.nearest_page(user, filters, exclude, exact=exact)
        params |= {**visibility_params(user), "vector": vectors.vector_text(vector), "k": k}
        rows = fetch(statement, params, settings=settings)
        page = ResultPage(hits=[], total=len(rows))
        for position, (_pk, distance, *values) in enumerate(rows, start=1):
            sample = common.samples_from(values)
            if sample is not None:
                parts = {"distance": distance, "vector_position": position}
                page.hits.append(Hit(sample=sample, score=1.0 - distance, parts=parts))
        return page

    def hybrid(self, *, user, text: str, vector: Sequence[float], filters=None, offset: int = 0,
               limit: int = 20, exclude: Sequence[UUID] = ()) -> ResultPage:  # fmt: skip
        filters = filters or SearchFilters()
        settings, exact = self._vector_settings(user, filters, self.hybrid_candidates)
        knn, params = vectors.knn(user, filters, exclude, exact=exact)
        params |= {
            **visibility_params(user),
            "vector": vectors.vector_text(vector),
            "k": self.hybrid_candidates,  # for each ranking: the text's and the kNN's
            "rrf": float(self.rrf_k),
            "limit": limit,
            "offset": offset,
        }
        query = TextQuery.plain(text)
        page = self._hybrid_page(user, filters, query, knn, params, settings, exclude)
        if page is None:  # the words find nothing as typed: near spellings
            query, expanded = self._fuzzy_query(user, text)
            page = self._hybrid_page(
                user, filters, query, knn, params, settings, exclude, last=True
            )
            page.fuzzy, page.expanded = True, expanded
        return page

    def facets(self, *, user, text="", filters=None, fuzzy="off", expanded=None) -> Facets:
        filters = filters or SearchFilters()
        faceted = registry.faceted()
        query = None
        if text.strip():
            if fuzzy == "on":
                query = self._fuzzy_query(user, text, expanded)[0]
            else:
                query = TextQuery.plain(text)
            if query is None:
                return Facets({item.name: [] for item in faceted})
        if not faceted:
            return Facets()
        statement, params, widths = facets_statement(user, filters, query, faceted)
        return Facets(facet_counts(fetch(statement, params), faceted, widths))

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
        rows = fetch(AUTOCOMPLETE, params, settings=self._word_settings())
        stem = text[: len(text) - len(prefix)]
        return [
            Suggestion(text=f"{stem}{word}", word=word, samples=n, fuzzy=is_fuzzy)
            for word, is_fuzzy, n in rows
        ]

    # ------------------------------------------------------------------ the index

    def setup(self, *, force: bool = False) -> bool:
        return schema.setup(force=force)

    def index(self, ids: Sequence[UUID]) -> None:
        if ids:
            fetch_none(indexing.INDEX, {"ids": list(ids)})

    def delete(self, ids: Sequence[UUID]) -> None:
        if ids:
            fetch_none(indexing.DELETE, {"ids": list(ids)})

    def rebuild(self, chunk: int = 5000) -> int:
        ids = [row[0] for row in fetch(indexing.ALL_IDS, {})]
        for start in range(0, len(ids), chunk):
            self.index(ids[start : start + chunk])
        fetch_none(indexing.ORPHANS, {})
        return len(ids)

    def stale(self, limit: int = 1000) -> list[UUID]:
        return [row[0] for row in fetch(indexing.STALE, {"limit": limit})]

    # ------------------------------------------------------------------ text

    def _text_page(self, user, filters, query: TextQuery, ordering, offset, limit,
                   near_words: Sequence[str] = ()) -> tuple[ResultPage, list | None]:  # fmt: skip
        """One page of ``query``'s matches; with ``near_words``, their near spellings
        (:data:`NEAR_WORDS` rows) too when nothing matches."""
        order = Order.of(ordering, TEXT_ORDER, SORTABLE)
        sort_column = order.first_column if order is not TEXT_ORDER else ""
        found, params = ranked(
            user,
            filters,
            query,
            weights=self.weights,
            depth=sql.Placeholder("depth"),
            sort_column=sort_column,
            postings=self._postings_rank(),
        )
        near, settings = None, None
        if near_words:
            near = NEAR_WORDS
            params |= self._near_params(user, near_words)
            settings = self._word_settings()
        statement, marks = text_page(found, query, order.sql(), order.sql("page"), near=near)
        params |= {**marks, "limit": limit, "offset": offset, "depth": offset + limit}
        rows = fetch(statement, params, settings=settings)
        page = ResultPage(hits=[], total=rows[0][0])
        near_rows = [tuple(row) for row in rows[0][1] or []] if near_words else None
        rows = [row[2:] for row in rows if row[2] is not None]
        for position, (_pk, rank, *values) in enumerate(rows, start=offset + 1):
            hit = self._hit(values, marked=True)
            if hit is not None:
                hit.score = rank
                hit.parts = {"text_rank": rank, "text_position": position}
                page.hits.append(hit)
        return page, near_rows

    def _postings_rank(self) -> bool:
        """Whether the ranked postings may rank (they hold ranks for the default weights)."""
        return self.postings and tuple(self.weights) == ranked_postings.RANK_WEIGHTS

    def _fuzzy_query(self, user, text: str, expanded: dict | None = None, *,
                     near_rows: list | None = None) -> tuple[TextQuery | None, dict]:  # fmt: skip
        """The query with each wanted word replaced by the visible words nearest to it.

        ``expanded`` gives the near words already found for ``text`` (a page's
        ``expanded``), ``near_rows`` the :data:`NEAR_WORDS` rows already
        fetched for its words; they are looked up when both are ``None``.
        """
        wanted, excluded = query_words(text)
        if not wanted:
            return None, {}
        if expanded is None and near_rows is None:
            params = self._near_params(user, wanted)
            near_rows = fetch(NEAR_WORDS, params, settings=self._word_settings())
        expanded = near_spellings(
            wanted, near_rows=near_rows, expanded=expanded, relative=self.fuzzy_relative_similarity
        )
        if not expanded:
            return None, {}
        # A word with no visible near spelling stays itself, so that it still has to
        # match (and, like any unknown word, finds nothing).
        groups = [expanded.get(word, [word]) for word in wanted]
        return TextQuery.raw(groups, excluded), expanded

    def _near_params(self, user, wanted: Sequence[str]) -> dict[str, Any]:
        return {
            **self._word_params(user),
            "words": list(wanted),
            "alternatives": self.fuzzy_alternatives,
        }

    def _word_params(self, user) -> dict[str, Any]:
        """What the word-list statements need to keep to the words ``user`` may see."""
        return {"config": TEXT_CONFIG, "probe": VISIBLE_WORD_PROBE, **visibility_params(user)}

    def _word_settings(self) -> dict[str, str]:
        return {"pg_trgm.similarity_threshold": str(self.fuzzy_min_similarity)}

    def _hit(self, values: Sequence[Any], *, marked: bool) -> Hit | None:
        """A hit from a row's sample columns (and two highlight columns when ``marked``)."""
        sample = common.samples_from(values[:-2] if marked else values)
        if sample is None:
            return None
        if not marked:
            return Hit(sample=sample)
        name, description = values[-2:]
        return Hit(
            sample=sample,
            highlight={"name": highlighted(name), "description": highlighted(description)},
        )

    # ------------------------------------------------------------------ browsing

    def _browse(
        self, user, filters: SearchFilters, ordering, offset: int, limit: int
    ) -> ResultPage:
        """Newest first (or by ``ordering``); matches counted up to ``count_cap``."""
        order = Order.of(ordering, BROWSE_ORDER, SORTABLE)
        columns = [sql.SQL("d.sample_id"), sql.SQL("d.created_at")]
        if order.first_column not in ("created_at", "sample_id"):
            columns.append(sql.Identifier("d", order.first_column))
        rows_sql, params = browse.filtered_rows(user, filters, sql.SQL(", ").join(columns))
        params |= {
            **visibility_params(user),
            "cap": self.count_cap,
            "limit": limit,
            "offset": offset,
        }
        if filters != SearchFilters():
            statement = browse.capped_page(rows_sql, order.sql(), order.sql("page"))
            rows = fetch(statement, params)
            total = rows[0][0] if rows else None
            if total is None and offset:
                total = fetch(browse.capped_count(rows_sql), params)[0][0]
            if (total or 0) < self.count_cap:
                return self._browsed(rows, total or 0, None)
        rows = fetch(browse.walked_page(rows_sql, order.sql(), order.sql("page")), params)
        return self._browsed(rows, rows[0][0], self.count_cap)

    def _browsed(self, rows: list[tuple], total: int, capped_at: int | None) -> ResultPage:
        page = ResultPage(hits=[], total=total, total_capped_at=capped_at)
        for _total, *values in rows:
            hit = self._hit(values, marked=False)
            if hit is not None:
                page.hits.append(hit)
        return page

    # ------------------------------------------------------------------ vectors

    def _hybrid_page(self, user, filters, query: TextQuery | None, knn, params: dict, settings,
                     exclude, *, last: bool = False) -> ResultPage | None:  # fmt: skip
        """Text ranking and vector ranking fused by RRF, paged and loaded: one statement.

        ``None`` when the text finds nothing and this is not the ``last`` try, so
        that near spellings can be tried.
        """
        params = {**params, "last": last or query is None}
        found = None
        if query is not None:
            found, text_params = ranked(
                user,
                filters,
                query,
                weights=self.weights,
                depth=sql.Placeholder("k"),
                exclude=exclude,
                postings=self._postings_rank(),
            )
            params |= text_params
        statement, marks = hybrid_statement(query, found, knn)
        rows = fetch(statement, {**params, **marks}, settings=settings)
        if query is not None and not rows[0][0] and not last:
            return None
        page = ResultPage(hits=[], total=rows[0][1])
        for _text_total, _total, rank, text_position, distance, vector_position, *values in rows:
            hit = self._hit(values, marked=query is not None)
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
