"""Full-text: the tsqueries of a search, the statements that rank its matches, highlights.

Other people's matches come from a GIN index on public documents (or, for one
word and nothing else, from its ranked postings), the caller's own from the GIN
index of (owner, words), so the privacy rule costs no extra rows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg import sql

from search.backends.postgres.common import (
    OWN_DOCUMENT,
    OWNED_BY_ME,
    SAMPLE_JOIN,
    Params,
    also,
    filter_where,
    sample_columns,
    visibility_params,
)
from search.backends.postgres.words import CONFIG, raw_tsquery, split_camel, split_exclusions
from search.filters import SearchFilters

SHORT_DESCRIPTION = 200  # characters; up to this a description's snippet is all of it
# ts_headline marks matches with these private-use characters; the text is then
# HTML-escaped and only they become <mark> tags, so nothing in a name or a
# description can add markup of its own.
MARK_START, MARK_END = "\ue000", "\ue001"
# A word the text parser reads as one token, so that it makes one lexeme at most.
_SIMPLE_WORD = re.compile(r"[A-Za-z]+|[0-9]+")
# ``select`` builders take what the row's reader searches (their own document or the public one).
Select = Callable[[sql.Composable], sql.Composable]

_WEBSEARCH = "websearch_to_tsquery({}, search_normalise({}))"
_RAW = "to_tsquery({}, {})"


@dataclass(frozen=True)
class TextQuery:
    """A tsquery over ``%(text)s`` (what matches) and one over ``%(rank_text)s`` (what ranks).

    The ranking query leaves the excluded words out: ``ts_rank`` gives an AND
    holding a NOT 1e-20 whatever the document, which would order "kick
    -snare" by date alone.

    ``spelled`` holds the wanted words when they are one word or alternatives
    to one word, and ``unspelled`` the excluded ones, each plain ASCII letters
    or digits (one lexeme at most each, as documents are split): the queries
    the postings can rank. Otherwise ``spelled`` is empty.
    """

    sql: sql.Composable
    value: str
    rank_sql: sql.Composable
    rank_value: str
    spelled: tuple[str, ...] = ()
    unspelled: tuple[str, ...] = ()

    @classmethod
    def plain(cls, text: str) -> TextQuery:
        """Web-search syntax, normalised as documents are."""
        text = split_camel(text)
        kept, excluded = split_exclusions(text)
        return cls._posted(
            _WEBSEARCH,
            text,
            " ".join(kept),
            bool(excluded),
            tuple(kept) if len(kept) == 1 else (),
            tuple(excluded),
        )

    @classmethod
    def raw(cls, groups: list[list[str]], excluded: Sequence[str] = ()) -> TextQuery:
        """The tsquery :func:`raw_tsquery` builds from ``groups`` and ``excluded``."""
        return cls._posted(
            _RAW,
            raw_tsquery(groups, list(excluded)),
            raw_tsquery(groups, []),
            bool(excluded),
            tuple(groups[0]) if len(groups) == 1 else (),
            tuple(excluded),
        )

    @classmethod
    def _posted(cls, form, value, rank_value, apart, spelled, unspelled) -> TextQuery:
        simple = all(_SIMPLE_WORD.fullmatch(word) for word in (*spelled, *unspelled))
        if not simple:
            spelled, unspelled = (), ()
        matches = sql.SQL(form).format(CONFIG, sql.Placeholder("text"))
        ranks = sql.SQL(form).format(CONFIG, sql.Placeholder("rank_text" if apart else "text"))
        return cls(matches, value, ranks, rank_value, spelled, unspelled)


@dataclass(frozen=True)
class Ranked:
    """A text search's matches as pieces of one statement.

    ``ctes`` go first in its ``WITH``. ``rows`` gives ``(sample_id,
    created_at, [sort column,] rank)`` rows among which are the best the
    caller asked for (maybe not every match). ``total`` is an expression for
    the number of matches.
    """

    rows: sql.Composable
    total: sql.Composable
    ctes: list[sql.Composable] = field(default_factory=list)


def own_matches(
    query: TextQuery, select: Select, where: Sequence[sql.Composable]
) -> sql.Composable:
    """``select`` over the caller's (``%(me)s``) documents matching ``query`` and ``where``.

    Their private collections' names count for them; the (words, owner) GIN
    index reads them without everybody else's matches.
    """
    return sql.SQL(
        "SELECT {select} FROM search_sampledocument d"
        " WHERE {owned} AND {document} @@ {query}{where}"
    ).format(
        select=select(OWN_DOCUMENT),
        owned=OWNED_BY_ME,
        document=OWN_DOCUMENT,
        query=query.sql,
        where=also(where),
    )


def matching(
    user, query: TextQuery, select: Select, where: Sequence[sql.Composable]
) -> sql.Composable:
    """``select`` over the documents ``user`` may see that match ``query`` and ``where``.

    Two branches, each served by its own index: other people's public samples
    through a GIN index on public documents, and the caller's own (matched
    also by their private collections' names) through the GIN index of their
    words and owner together. One ``OR`` of both would read every match of
    other users' private samples and every row of the caller's.
    """
    public = sql.SQL(
        "SELECT {select} FROM search_sampledocument d"
        " WHERE d.visibility = %(public)s AND d.document @@ {query}{where}"
    ).format(select=select(sql.SQL("d.document")), query=query.sql, where=also(where))
    if not user.is_authenticated:
        return public
    return sql.SQL("{} AND d.owner_id <> %(me)s UNION ALL {}").format(
        public, own_matches(query, select, where)
    )


def rank_of(query: TextQuery) -> Select:
    """The ``ts_rank`` of a row for ``query`` (with the ``%(weights)s`` weights), as ``rank``."""
    return lambda document: sql.SQL("ts_rank(%(weights)s::float4[], {}, {}) AS rank").format(
        document, query.rank_sql
    )


def ranked(
    user,
    filters: SearchFilters,
    query: TextQuery,
    *,
    weights: list[float],
    depth: sql.Placeholder,
    exclude: Sequence[UUID] = (),
    sort_column: str = "",
    postings: bool = False,
) -> tuple[Ranked, Params]:
    """Text matches as rows ``(sample_id, created_at, [sort_column,] rank)``.

    ``depth`` is how many of the best a caller reads at most; ``postings``
    whether the ranked postings (``PublicPosting``) may rank them.
    """
    where, params = filter_where(user, filters, alias="d", id_column="sample_id")
    params |= {
        "text": query.value,
        "rank_text": query.rank_value,
        "weights": weights,
        **visibility_params(user),
    }
    if exclude:
        params["exclude"] = list(exclude)
    if postings and query.spelled and not where and not sort_column:
        params["spelled"] = " ".join(query.spelled)
        params["unspelled"] = " ".join(query.unspelled)
        return posting_ranked(user, query, exclude, depth), params
    if exclude:
        where.append(sql.SQL("d.sample_id <> ALL(%(exclude)s::uuid[])"))
    columns = [sql.SQL("d.sample_id"), sql.SQL("d.created_at")]
    if sort_column and sort_column != "created_at":
        columns.append(sql.Identifier("d", sort_column))
    rank = rank_of(query)

    def select(document: sql.Composable) -> sql.Composable:
        return sql.SQL(", ").join([*columns, rank(document)])

    matches = matching(user, query, select, where)
    return (
        Ranked(
            rows=sql.SQL("SELECT * FROM matches"),
            total=sql.SQL("(SELECT count(*) FROM matches)"),
            ctes=[sql.SQL("matches AS MATERIALIZED ({})").format(matches)],
        ),
        params,
    )


_LEXEMES = sql.SQL("tsvector_to_array(to_tsvector({}, %(spelled)s))").format(CONFIG)


def posting_ranked(
    user, query: TextQuery, exclude: Sequence[UUID], depth: sql.Placeholder
) -> Ranked:
    """The best ``depth`` public matches from the postings, and every match of the caller's.

    One word: the first rows of its postings, in the index's order, and their
    number from the index. Several (near spellings that stem apart): each
    sample's postings summed and divided by their number, as ``ts_rank``
    ranks a query of alternatives.
    """
    where = []
    if user.is_authenticated:
        where.append(sql.SQL("p.owner_id <> %(me)s"))
    if exclude:
        where.append(sql.SQL("p.sample_id <> ALL(%(exclude)s::uuid[])"))
    if query.unspelled:
        where.append(
            sql.SQL(
                "NOT EXISTS (SELECT 1 FROM search_publicposting x"
                " WHERE x.sample_id = p.sample_id"
                " AND x.lexeme = ANY(tsvector_to_array(to_tsvector({}, %(unspelled)s))))"
            ).format(CONFIG)
        )
    one = sql.SQL(
        "FROM search_publicposting p WHERE cardinality({lexemes}) = 1"
        " AND p.lexeme = ({lexemes})[1]{where}"
    ).format(lexemes=_LEXEMES, where=also(where))
    one_best = sql.SQL(
        "(SELECT p.sample_id, p.created_at, p.rank::real AS rank {one}"
        " ORDER BY p.rank DESC, p.created_at DESC, p.sample_id LIMIT {depth})"
    ).format(one=one, depth=depth)
    ctes: list[sql.Composable] = []
    rows = [one_best]
    total = [sql.SQL("(SELECT count(*) {})").format(one)]
    if len(query.spelled) > 1:  # near spellings may stem to several lexemes
        several = sql.SQL(
            "SELECT p.sample_id, max(p.created_at) AS created_at,"
            " (sum(p.rank) / cardinality({lexemes}))::real AS rank"
            " FROM search_publicposting p WHERE cardinality({lexemes}) > 1"
            " AND p.lexeme = ANY({lexemes}){where} GROUP BY p.sample_id"
        ).format(lexemes=_LEXEMES, where=also(where))
        ctes.append(sql.SQL("several AS MATERIALIZED ({})").format(several))
        rows.append(
            sql.SQL(
                "(SELECT * FROM several ORDER BY rank DESC, created_at DESC, sample_id LIMIT {})"
            ).format(depth)
        )
        total.append(sql.SQL("(SELECT count(*) FROM several)"))
    if user.is_authenticated:
        own_where = [sql.SQL("d.sample_id <> ALL(%(exclude)s::uuid[])")] if exclude else []
        rank = rank_of(query)

        def select(document: sql.Composable) -> sql.Composable:
            return sql.SQL("d.sample_id, d.created_at, {}").format(rank(document))

        ctes.append(
            sql.SQL("own AS MATERIALIZED ({})").format(own_matches(query, select, own_where))
        )
        rows.append(sql.SQL("SELECT * FROM own"))
        total.append(sql.SQL("(SELECT count(*) FROM own)"))
    return Ranked(
        rows=sql.SQL(" UNION ALL ").join(rows),
        total=sql.SQL("({})").format(sql.SQL(" + ").join(total)),
        ctes=ctes,
    )


def highlights(query: TextQuery) -> tuple[sql.Composable, Params]:
    """Two SELECT columns: the name and the description with matches marked.

    A short description is shown whole; a long one as fragments around the matches.
    """
    marks = f"StartSel='{MARK_START}', StopSel='{MARK_END}'"
    params: dict[str, Any] = {
        "marks": MARK_START + MARK_END,
        "short_headline": f"{marks}, HighlightAll=true",
        "long_headline": (
            f"{marks}, MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=' … '"
        ),
        "short_description": SHORT_DESCRIPTION,
    }
    columns = sql.SQL(
        "ts_headline({config}, translate(s.name, %(marks)s, ''), {query}, %(short_headline)s),"
        " CASE WHEN length(s.description) > %(short_description)s"
        " THEN ts_headline({config}, {description}, {query}, %(long_headline)s)"
        " ELSE ts_headline({config}, {description}, {query}, %(short_headline)s) END"
    ).format(
        config=CONFIG,
        query=query.sql,
        description=sql.SQL("translate(search_plain(s.description), %(marks)s, '')"),
    )
    return columns, params


def highlighted(text: str | None) -> str:
    """Escape ``text`` for HTML and turn the headline markers into ``<mark>`` tags."""
    if not text:
        return ""
    escaped = html.escape(" ".join(text.split()), quote=True)
    if escaped.count(MARK_START) != escaped.count(MARK_END):
        return escaped.replace(MARK_START, "").replace(MARK_END, "")
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def text_page(
    ranked: Ranked,
    query: TextQuery,
    order: sql.Composable,
    page_order: sql.Composable,
    *,
    near: sql.Composable | None = None,
) -> tuple[sql.Composable, Params]:
    """One page of ``ranked``, the number of matches, samples and highlights: one statement.

    The statement always returns a row, its first column the number of
    matches, its second (with ``near``, the word-list statement of the query
    words' near spellings) those near spellings when there are no matches.
    """
    marked, params = highlights(query)
    if near is None:
        near_column = sql.SQL("NULL::json")
    else:
        # Looked up (an InitPlan run at first use) only when nothing matches.
        near_column = sql.SQL(
            "CASE WHEN total = 0 THEN (SELECT json_agg(json_build_array("
            "n.wanted, n.near, n.similarity) ORDER BY n.position, n.similarity DESC, n.near)"
            " FROM ({}) n) END"
        ).format(near)
    ctes = [
        *ranked.ctes,
        sql.SQL(
            "page AS (SELECT * FROM ({}) ranked ORDER BY {} LIMIT %(limit)s OFFSET %(offset)s)"
        ).format(ranked.rows, order),
        # Counted once, though read twice.
        sql.SQL("counted AS MATERIALIZED (SELECT {} AS total)").format(ranked.total),
    ]
    # The number of matches in a row of its own, so that a page past the end
    # still says how many there are.
    statement = sql.SQL(
        "WITH {ctes} SELECT head.total, head.near, page.sample_id, page.rank, {columns}, {marked}"
        " FROM (SELECT total, {near} AS near FROM counted) head"
        " LEFT JOIN page ON true{join} ORDER BY {page_order}"
    ).format(
        ctes=sql.SQL(", ").join(ctes),
        columns=sample_columns(),
        marked=marked,
        near=near_column,
        join=SAMPLE_JOIN,
        page_order=page_order,
    )
    return statement, params
