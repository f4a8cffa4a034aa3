"""PostgresSearchBackend: the ranking queries over ``search_sampledocument``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import reduce
from operator import or_
from typing import Any
from uuid import UUID

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVectorField,
)
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Length
from django.db.models.lookups import GreaterThan
from pgvector.django import CosineDistance

from library.models import CollectionItem, Sample, Visibility
from library.selectors import collections_visible, samples_visible
from search.backends.base import (
    BPM_BAND_EDGES,
    SORTABLE,
    BaseSearchBackend,
    FacetCount,
    Facets,
    Hit,
    ResultPage,
    SearchFilters,
    Suggestion,
    bpm_band,
)
from search.backends.postgres.text import (
    AUTOCOMPLETE_COUNT_CAP,
    AUTOCOMPLETE_SQL,
    MARK_END,
    MARK_START,
    NEAR_WORDS_SQL,
    SIMILARITY_THRESHOLD_SQL,
    TEXT_CONFIG,
    VISIBLE_WORD_PROBE,
    highlighted,
    query_words,
    raw_tsquery,
    without_markers,
    words,
)
from search.keys import camelot, compatible_keys
from search.models import SampleDocument

SHORT_DESCRIPTION = 200  # characters; up to this a description's snippet is all of it


@dataclass
class _Ranked:
    """A ranking before its samples are loaded: ``(id, score, parts)`` rows and a total."""

    rows: list[tuple[UUID, float | None, dict[str, Any]]]
    total: int
    total_capped_at: int | None = None
    fuzzy: bool = False
    expanded: dict[str, list[str]] = field(default_factory=dict)


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
    - ``iterative_scan`` ("relaxed_order"): pgvector's iterative index scan mode;
      "off" lets filters shrink the answer below ``k``.
    - ``max_scan_tuples`` (20000): how far a filtered vector scan may go to fill ``k``.
    - ``hybrid_candidates`` (100): how many results of each ranking hybrid search fuses.
    - ``rrf_k`` (60): the reciprocal rank fusion constant.
    - ``count_cap`` (10000): searches without text stop counting matches here.
    - ``fuzzy_min_similarity`` (0.25): trigram similarity a near word needs.
    - ``fuzzy_alternatives`` (4): near words tried per query word.
    - ``weights`` ([0.1, 0.2, 0.4, 1.0]): ts_rank weights for D, C, B, A.
    """

    def __init__(self, alias: str = "default", **options: Any) -> None:
        super().__init__(alias, **options)
        self.ef_search = int(options.get("ef_search", 100))
        self.filtered_ef_search = int(options.get("filtered_ef_search", 800))
        self.exact_max = int(options.get("exact_max", 5000))
        self.iterative_scan = str(options.get("iterative_scan", "relaxed_order"))
        self.max_scan_tuples = int(options.get("max_scan_tuples", 20_000))
        self.hybrid_candidates = int(options.get("hybrid_candidates", 100))
        self.rrf_k = int(options.get("rrf_k", 60))
        self.count_cap = int(options.get("count_cap", 10_000))
        self.fuzzy_min_similarity = float(options.get("fuzzy_min_similarity", 0.25))
        self.fuzzy_alternatives = int(options.get("fuzzy_alternatives", 4))
        self.weights = list(options.get("weights", [0.1, 0.2, 0.4, 1.0]))

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
        documents = self._documents(user, filters or SearchFilters())
        if not text.strip():
            browsed = self._browse(
                documents, ordering, offset, limit, filtered=filters not in (None, SearchFilters())
            )
            return self._load(user, browsed, None)
        query, ranked = self._text_ranking(user, documents, text, fuzzy, ordering, offset, limit)
        return self._load(user, ranked, query)

    def nearest(
        self,
        *,
        user,
        vector: Sequence[float],
        filters: SearchFilters | None = None,
        k: int = 10,
        exclude: Sequence[UUID] = (),
    ) -> ResultPage:
        rows = self._nearest_rows(user, filters or SearchFilters(), vector, k, exclude)
        ranked = _Ranked(
            rows=[
                (pk, 1.0 - distance, {"distance": distance, "vector_position": position})
                for position, (pk, distance) in enumerate(rows, start=1)
            ],
            total=len(rows),
        )
        return self._load(user, ranked, None)

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
        documents = self._documents(user, filters)
        if exclude:
            documents = documents.exclude(sample_id__in=list(exclude))
        query, text_ranking = self._text_ranking(
            user, documents, text, "auto", None, 0, self.hybrid_candidates
        )
        vector_rows = self._nearest_rows(user, filters, vector, self.hybrid_candidates, exclude)

        fused: dict[UUID, dict[str, Any]] = {}
        for pk, rank, parts in text_ranking.rows:
            fused[pk] = {"text_rank": rank, "text_position": parts["text_position"]}
        for position, (pk, distance) in enumerate(vector_rows, start=1):
            parts = fused.setdefault(pk, {"text_rank": None, "text_position": None})
            parts.update(distance=distance, vector_position=position)
        for parts in fused.values():
            parts.setdefault("distance", None)
            parts.setdefault("vector_position", None)
            parts["text_rrf"] = self._rrf(parts["text_position"])
            parts["vector_rrf"] = self._rrf(parts["vector_position"])
        ranked = sorted(
            fused.items(),
            key=lambda item: (
                -(item[1]["text_rrf"] + item[1]["vector_rrf"]),
                item[1]["vector_position"] or float("inf"),
            ),
        )
        page = _Ranked(
            rows=[
                (pk, parts["text_rrf"] + parts["vector_rrf"], parts)
                for pk, parts in ranked[offset : offset + limit]
            ],
            total=len(ranked),
            fuzzy=text_ranking.fuzzy,
            expanded=text_ranking.expanded,
        )
        return self._load(user, page, query)

    def facets(
        self, *, user, text: str = "", filters: SearchFilters | None = None, fuzzy: str = "off"
    ) -> Facets:
        filters = filters or SearchFilters()
        query = None
        if text.strip():
            query = self._fuzzy_query(user, text)[0] if fuzzy == "on" else self._plain_query(text)
            if query is None:
                return Facets(category=[], key=[], bpm=[])

        def narrowed(skip: str) -> QuerySet[SampleDocument]:
            documents = self._documents(user, filters, skip=skip)
            if query is not None:
                documents = self._matching(user, documents, query)
            return documents.order_by()

        categories = (
            narrowed("category")
            .filter(category__isnull=False)
            .values_list("category")
            .annotate(n=Count("pk"))
            .order_by("-n", "category")
        )
        keys = (
            narrowed("key")
            .filter(key__isnull=False)
            .values_list("key", "mode")
            .annotate(n=Count("pk"))
            .order_by("-n", "key", "mode")
        )
        band = Func(
            F("bpm"),
            Value(list(map(float, BPM_BAND_EDGES)), output_field=ArrayField(FloatField())),
            function="width_bucket",
            output_field=IntegerField(),
        )
        bands = dict(
            narrowed("bpm")
            .filter(bpm__isnull=False)
            .annotate(band=band)
            .values_list("band")
            .annotate(n=Count("pk"))
            .values_list("band", "n")
        )
        return Facets(
            category=[
                FacetCount(value=name, count=n, label=name.replace("_", " "))
                for name, n in categories
            ],
            key=[
                FacetCount(
                    value={"key": key, "mode": mode},
                    count=n,
                    label=f"{key} {mode} ({camelot(key, mode)})" if mode else key,
                )
                for key, mode, n in keys
            ],
            bpm=[
                FacetCount(value={"min": low, "max": high}, count=bands[index], label=label)
                for index in range(len(BPM_BAND_EDGES) + 1)
                if bands.get(index)
                for low, high, label in [bpm_band(index)]
            ],
        )

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

    def _documents(
        self, user, filters: SearchFilters, *, skip: str = ""
    ) -> QuerySet[SampleDocument]:
        """Search rows of the samples ``user`` may see (own and public), narrowed by ``filters``."""
        visible = Q(visibility=Visibility.PUBLIC)
        if user.is_authenticated:
            visible |= Q(owner_id=user.pk)
        return SampleDocument.objects.filter(visible).filter(
            self._filter_q(user, filters, skip=skip)
        )

    def _samples(self, user, filters: SearchFilters, *, skip: str = "") -> QuerySet[Sample]:
        """The samples ``user`` may see (:func:`samples_visible`), narrowed by ``filters``."""
        return samples_visible(user=user).filter(
            self._filter_q(user, filters, skip=skip, sample_id="pk")
        )

    def _filter_q(
        self, user, filters: SearchFilters, *, skip: str = "", sample_id: str = "sample_id"
    ) -> Q:
        """``filters`` as a Q for SampleDocument, or for Sample with ``sample_id="pk"``.

        Both models name the filtered columns alike.
        """
        f = filters
        q = Q()
        if skip != "bpm":
            if f.bpm_min is not None:
                q &= Q(bpm__gte=f.bpm_min)
            if f.bpm_max is not None:
                q &= Q(bpm__lte=f.bpm_max)
        if skip != "key":
            if f.key and f.compatible_keys and f.mode:
                q &= reduce(or_, (Q(key=k, mode=m) for k, m in compatible_keys(f.key, f.mode)))
            else:
                if f.key:
                    q &= Q(key=f.key)
                if f.mode:
                    q &= Q(mode=f.mode)
        if skip != "category" and f.categories:
            # One category as equality, so its partial HNSW index applies.
            categories = list(f.categories)
            q &= Q(category=categories[0]) if len(categories) == 1 else Q(category__in=categories)
        if f.duration_min is not None:
            q &= Q(duration__gte=f.duration_min)
        if f.duration_max is not None:
            q &= Q(duration__lte=f.duration_max)
        if f.loudness_min is not None:
            q &= Q(loudness_lufs__gte=f.loudness_min)
        if f.loudness_max is not None:
            q &= Q(loudness_lufs__lte=f.loudness_max)
        if f.is_loop is not None:
            q &= Q(is_loop=f.is_loop)
        if f.tags:
            q &= Q(tags__contains=list(f.tags))
        if f.collection is not None:
            # Only a collection the user may see narrows anything; another's private one is empty.
            items = CollectionItem.objects.filter(
                collection_id=f.collection, collection__in=collections_visible(user=user)
            )
            q &= Q(**{f"{sample_id}__in": items.values("sample_id")})
        if f.visibility:
            q &= Q(visibility=f.visibility)
        if f.mine:
            q &= Q(owner_id=user.pk) if user.is_authenticated else Q(pk__in=[])
        return q

    def _plain_query(self, text: str) -> SearchQuery:
        normalised = Func(Value(text), function="search_normalise", output_field=TextField())
        return SearchQuery(normalised, config=TEXT_CONFIG, search_type="websearch")

    def _fuzzy_query(self, user, text: str) -> tuple[SearchQuery | None, dict[str, list[str]]]:
        """The query with each wanted word replaced by the visible words nearest to it."""
        wanted, excluded = query_words(text)
        if not wanted:
            return None, {}
        params = {
            **self._word_params(user),
            "words": wanted,
            "alternatives": self.fuzzy_alternatives,
        }
        expanded: dict[str, list[str]] = {}
        for word, near in self._word_rows(NEAR_WORDS_SQL, params):
            expanded.setdefault(word, []).append(near)
        if not expanded:
            return None, {}
        # A word with no visible near spelling stays itself, so that it still has to
        # match (and, like any unknown word, finds nothing).
        raw = raw_tsquery([expanded.get(word, [word]) for word in wanted], excluded)
        return SearchQuery(raw, config=TEXT_CONFIG, search_type="raw"), expanded

    def _word_params(self, user) -> dict[str, Any]:
        """What the word-list queries (text.py) need to keep to the words ``user`` may see."""
        return {
            "config": TEXT_CONFIG,
            "owner": user.pk if user.is_authenticated else None,
            "public": Visibility.PUBLIC,
            "probe": VISIBLE_WORD_PROBE,
        }

    def _word_rows(self, sql: str, params: dict[str, Any]) -> list[tuple]:
        """Run a word-list query with trigram ``%`` set to ``fuzzy_min_similarity``."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(SIMILARITY_THRESHOLD_SQL, [str(self.fuzzy_min_similarity)])
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _matching(self, user, documents: QuerySet, query: SearchQuery) -> QuerySet:
        """``documents`` matching ``query``: the owner's also by private collection names."""
        public = Q(visibility=Visibility.PUBLIC, document=query)
        if not user.is_authenticated:
            return documents.filter(public)
        own_document = Func(
            F("document"),
            Coalesce(F("private_document"), Value("", output_field=SearchVectorField())),
            template="(%(expressions)s)",
            arg_joiner=" || ",
            output_field=SearchVectorField(),
        )
        return documents.alias(own_document=own_document).filter(
            Q(owner_id=user.pk, own_document=query) | public
        )

    def _rank(self, user, query: SearchQuery) -> Any:
        public = SearchRank(F("document"), query, weights=self.weights)
        if not user.is_authenticated:
            return public
        own = SearchRank(F("own_document"), query, weights=self.weights)
        return Case(When(owner_id=user.pk, then=own), default=public, output_field=FloatField())

    def _ordering(self, ordering: str | None, default: tuple[Any, ...]) -> tuple[Any, ...]:
        name = (ordering or "").lstrip("-")
        if name not in SORTABLE:
            return default
        column = F(name)
        first = column.desc(nulls_last=True) if ordering.startswith("-") else column.asc()
        return (first, *default)

    def _text_ranking(
        self,
        user,
        documents: QuerySet[SampleDocument],
        text: str,
        fuzzy: str,
        ordering: str | None,
        offset: int,
        limit: int,
    ) -> tuple[SearchQuery | None, _Ranked]:
        """Rank ``documents`` against ``text``, approximately when ``fuzzy`` says so."""
        if fuzzy != "on":
            query = self._plain_query(text)
            ranked = self._ranked(user, documents, query, ordering, offset, limit)
            if ranked.total or fuzzy == "off":
                return query, ranked
        query, expanded = self._fuzzy_query(user, text)
        if query is None:
            return None, _Ranked(rows=[], total=0, fuzzy=True)
        ranked = self._ranked(user, documents, query, ordering, offset, limit)
        ranked.fuzzy, ranked.expanded = True, expanded
        return query, ranked

    def _ranked(
        self,
        user,
        documents: QuerySet[SampleDocument],
        query: SearchQuery,
        ordering: str | None,
        offset: int,
        limit: int,
    ) -> _Ranked:
        matches = self._matching(user, documents, query)
        rows = list(
            matches.annotate(rank=self._rank(user, query), total=Window(Count("pk")))
            .order_by(*self._ordering(ordering, (F("rank").desc(), "-created_at", "pk")))
            .values_list("sample_id", "rank", "total")[offset : offset + limit]
        )
        if rows:
            total = rows[0][2]
        else:
            total = matches.count() if offset else 0
        return _Ranked(
            rows=[
                (pk, rank, {"text_rank": rank, "text_position": offset + i})
                for i, (pk, rank, _total) in enumerate(rows, start=1)
            ],
            total=total,
        )

    def _browse(
        self,
        documents: QuerySet[SampleDocument],
        ordering: str | None,
        offset: int,
        limit: int,
        *,
        filtered: bool,
    ) -> _Ranked:
        order = self._ordering(ordering, ("-created_at", "pk"))
        if filtered:
            ranked = self._browse_few(documents, ordering, offset, limit)
            if ranked is not None:
                return ranked
        ids = list(
            documents.order_by(*order).values_list("sample_id", flat=True)[offset : offset + limit]
        )
        total = documents.order_by()[: self.count_cap].count()
        return _Ranked(
            rows=[(pk, None, {}) for pk in ids], total=total, total_capped_at=self.count_cap
        )

    def _browse_few(
        self, documents: QuerySet[SampleDocument], ordering: str | None, offset: int, limit: int
    ) -> _Ranked | None:
        """Filters' matches sorted in one query, or ``None`` when they reach ``count_cap``.

        Walking the ``created_at`` index newest first until a page is found is quick
        when many samples match, but passes the whole table when filters that look
        common together match few or none ("kicks at 90-130 BPM": kicks have no
        tempo). So the matches are first gathered through the filters' own indexes,
        up to the cap, and sorted there; only when the cap is reached is the index
        walked.
        """
        name = (ordering or "").lstrip("-")
        order = ["created_at DESC", "sample_id"]
        if name in SORTABLE:
            order.insert(0, f"{name} DESC NULLS LAST" if ordering.startswith("-") else name)
        columns = ("sample_id", "created_at", *([name] if name in SORTABLE else []))
        try:
            inner, params = (
                documents.order_by().values(*columns)[: self.count_cap].query.sql_with_params()
            )
        except EmptyResultSet:  # filters that cannot match ("mine" without an account)
            return _Ranked(rows=[], total=0)
        sql = (
            f"SELECT sample_id, count(*) OVER () FROM ({inner}) matches"  # noqa: S608 - ORM SQL
            f" ORDER BY {', '.join(order)} LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit, offset])
            rows = cursor.fetchall()
        if rows:
            total = rows[0][1]
        elif offset:
            total = documents.order_by()[: self.count_cap].count()
        else:
            total = 0
        if total >= self.count_cap:
            return None
        return _Ranked(rows=[(pk, None, {}) for pk, _n in rows], total=total)

    def _nearest_rows(
        self,
        user,
        filters: SearchFilters,
        vector: Sequence[float],
        k: int,
        exclude: Sequence[UUID],
    ) -> list[tuple[UUID, float]]:
        """The ``k`` nearest visible, filtered samples as ``(id, cosine distance)``."""
        several = len(filters.categories) > 1
        samples = self._samples(user, filters, skip="category" if several else "")
        samples = samples.filter(embedding__isnull=False)
        if exclude:
            samples = samples.exclude(pk__in=list(exclude))
        samples = samples.annotate(distance=CosineDistance("embedding", list(vector)))

        def nearest(queryset: QuerySet) -> QuerySet:
            return queryset.order_by("distance").values_list("pk", "distance")[:k]

        if several:
            # Each category through its own partial index, then merged.
            first, *rest = (nearest(samples.filter(category=c)) for c in filters.categories)
            query = first.union(*rest, all=True)
        else:
            query = nearest(samples)

        # Unfiltered: the whole graph. Category and loop/one-shot filters: their own
        # partial graphs, searched wider. Other filters: when they leave few samples
        # (the planner's estimate), compare with each of them exactly, through the
        # filters' own indexes; a graph walk would have to pass thousands of others
        # to find them, and miss some.
        exact = False
        ef_search = self.filtered_ef_search
        if filters == SearchFilters():
            ef_search = self.ef_search
        elif replace(filters, categories=(), is_loop=None) != SearchFilters():
            exact = self._estimated_rows(samples) <= self.exact_max
        with transaction.atomic():
            with connection.cursor() as cursor:
                # SET LOCAL: the settings end with this transaction. relaxed_order lets
                # the scan go on past filtered-out rows until k are found; the few
                # rows it returns out of order are sorted below.
                cursor.execute(
                    "SELECT set_config('hnsw.iterative_scan', %s, true),"
                    " set_config('hnsw.ef_search', %s, true),"
                    " set_config('hnsw.max_scan_tuples', %s, true),"
                    " set_config('enable_indexscan', %s, true)",
                    [
                        self.iterative_scan,
                        str(max(ef_search, k)),
                        str(self.max_scan_tuples),
                        "off" if exact else "on",
                    ],
                )
            rows = list(query)
        rows.sort(key=lambda row: row[1])
        return rows[:k]

    def _estimated_rows(self, queryset: QuerySet) -> float:
        """How many rows the planner expects ``queryset`` to return (an EXPLAIN, no scan)."""
        sql, params = queryset.values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            (plan,) = cursor.fetchone()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return float(plan[0]["Plan"]["Plan Rows"])

    def _rrf(self, position: int | None) -> float:
        return 1.0 / (self.rrf_k + position) if position else 0.0

    def _load(self, user, ranked: _Ranked, query: SearchQuery | None) -> ResultPage:
        """The ranking's samples (owners included, highlighted for ``query``), in one query."""
        page = ResultPage(
            hits=[],
            total=ranked.total,
            total_capped_at=ranked.total_capped_at,
            fuzzy=ranked.fuzzy,
            expanded=ranked.expanded,
        )
        if not ranked.rows:
            return page
        samples = (
            samples_visible(user=user)
            .filter(pk__in=[pk for pk, _score, _parts in ranked.rows])
            .select_related("owner")
            .defer("embedding", "descriptors", "waveform")
        )
        if query is not None:
            samples = samples.annotate(**self._highlights(query))
        by_id = {sample.pk: sample for sample in samples}
        for pk, score, parts in ranked.rows:
            sample = by_id.get(pk)
            if sample is None:  # deleted or made private since it was ranked
                continue
            hit = Hit(sample=sample, score=score, parts=parts)
            if query is not None:
                hit.highlight = {
                    "name": highlighted(sample.name_highlight),
                    "description": highlighted(sample.description_highlight),
                }
            page.hits.append(hit)
        return page

    def _highlights(self, query: SearchQuery) -> dict[str, Any]:
        marks = {"config": TEXT_CONFIG, "start_sel": MARK_START, "stop_sel": MARK_END}
        description = without_markers(Func(F("description"), function="search_plain"))
        return {
            "name_highlight": SearchHeadline(
                without_markers(F("name")), query, highlight_all=True, **marks
            ),
            # A short description is shown whole; a long one as fragments around the matches.
            "description_highlight": Case(
                When(
                    GreaterThan(Length("description"), SHORT_DESCRIPTION),
                    then=SearchHeadline(
                        description,
                        query,
                        max_words=24,
                        min_words=10,
                        max_fragments=2,
                        fragment_delimiter=" … ",
                        **marks,
                    ),
                ),
                default=SearchHeadline(description, query, highlight_all=True, **marks),
            ),
        }
