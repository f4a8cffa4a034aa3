"""Text helpers for the PostgreSQL backend: query words, highlights, and the word-list SQL."""

from __future__ import annotations

import html
import re

from search.backends.postgres.sql import OWN_DOCUMENT, owned_by

TEXT_CONFIG = "english"
# ts_headline marks matches with these private-use characters; the text is then
# HTML-escaped and only they become <mark> tags, so nothing in a name or a
# description can add markup of its own.
MARK_START, MARK_END = "\ue000", "\ue001"

_WORD = re.compile(r"[^\W_]+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
# A lower-case letter followed by a capital: "KickHard" -> "Kick Hard".
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

# A word of the word list is offered to a caller (as a near spelling or a
# completion) only when it is a word of a sample the caller can see: the list
# holds every user's words, private ones included. The check happens inside the
# index scan, before any LIMIT, so other users' words cannot crowd out the
# caller's own. It must find a visible sample with that very spelling in its
# name or tags: a private "kicking" must not be revealed by a public "kick".
# First the word's witness, a public sample recorded as having it (migration
# 0005), is checked; it may be stale, so it is checked like any other sample.
# Failing that, the search index finds up to VISIBLE_WORD_PROBE visible
# documents with the word's stem in their name or tags (weight A), and one of
# them must hold the spelling.
VISIBLE_WORD_PROBE = 20
# The spellings in the name and tags of the sample aliased ``s``, split as the
# triggers that fill the word list split them (migration 0002).
SPELLED_WORDS = (
    "to_tsvector('simple', search_normalise(s.name || ' ' || array_to_string(s.tags, ' ')))"
)
HAS_SPELLING = f"{SPELLED_WORDS} @@ to_tsquery('simple', quote_literal({{word}}))"
VISIBLE_WORD_SQL = """
    (EXISTS (
        SELECT 1 FROM library_sample s
        WHERE s.id = {witness} AND s.visibility = %(public)s AND {has_spelling}
    )
    OR EXISTS (
        SELECT 1
        FROM (
            SELECT d.sample_id FROM search_sampledocument d
            WHERE d.document @@ to_tsquery(%(config)s::regconfig, quote_literal({word}) || ':A')
              AND (d.visibility = %(public)s OR d.owner_id = %(me)s)
            LIMIT %(probe)s
        ) seen
        JOIN library_sample s ON s.id = seen.sample_id
        WHERE {has_spelling}
    ))
""".replace("{has_spelling}", HAS_SPELLING)
_VISIBLE_TERM = VISIBLE_WORD_SQL.format(word="term.word", witness="term.witness")

# For each query word, the visible words nearest to it (trigram distance, GiST).
NEAR_WORDS_SQL = f"""
    SELECT wanted.word AS wanted, near.word AS near, 1 - near.distance AS similarity,
           wanted.position
    FROM unnest(%(words)s::text[]) WITH ORDINALITY AS wanted(word, position)
    CROSS JOIN LATERAL (
        SELECT term.word, term.word <-> wanted.word AS distance
        FROM search_searchterm term
        WHERE term.word %% wanted.word AND {_VISIBLE_TERM}
        ORDER BY term.word <-> wanted.word
        LIMIT %(alternatives)s
    ) near
    ORDER BY wanted.position, near.distance, near.word
"""  # noqa: S608 - constants only

AUTOCOMPLETE_COUNT_CAP = 100
# Completions of the last word: visible words starting with it, shortest first,
# then (from three letters on) visible near spellings. Each is kept only when,
# with the words before it, it finds some of the caller's visible samples by
# name or tag (weight A), counted up to a cap.
AUTOCOMPLETE_SQL = f"""
    WITH candidates AS (
        (SELECT term.word, false AS fuzzy FROM search_searchterm term
         WHERE term.word LIKE %(pattern)s AND {_VISIBLE_TERM}
         ORDER BY length(term.word), term.word LIMIT %(many)s)
        UNION ALL
        (SELECT term.word, true FROM search_searchterm term
         WHERE %(try_fuzzy)s AND term.word %% %(prefix)s AND term.word NOT LIKE %(pattern)s
           AND {_VISIBLE_TERM}
         ORDER BY term.word <-> %(prefix)s LIMIT %(few)s)
    )
    SELECT c.word, c.fuzzy, found.n
    FROM candidates c
    CROSS JOIN LATERAL (
        SELECT to_tsquery(%(config)s::regconfig, quote_literal(c.word) || ':A') AS word_query
    ) w
    CROSS JOIN LATERAL (
        SELECT CASE WHEN %(context)s = '' THEN w.word_query
               ELSE websearch_to_tsquery(%(config)s::regconfig, search_normalise(%(context)s))
                    && w.word_query
               END AS query
    ) q
    CROSS JOIN LATERAL (
        SELECT count(*) FROM (
            SELECT 1 FROM search_sampledocument d
            WHERE ({owned_by("me")} AND {OWN_DOCUMENT} @@ q.query)
               OR (d.visibility = %(public)s AND d.document @@ q.query)
            LIMIT %(cap)s
        ) capped
    ) AS found(n)
    WHERE found.n > 0
    ORDER BY c.fuzzy, found.n DESC, length(c.word), c.word
    LIMIT %(limit)s
"""  # noqa: S608 - constants only


def words(text: str) -> list[str]:
    """Lower-cased words split the way documents are: ``"BD808"`` -> ``["bd", "808"]``.

    Camel case is split too (``"KickHard"`` -> ``["kick", "hard"]``), as queries are.
    """
    return _WORD.findall(_LETTER_DIGIT.sub(" ", split_camel(text)).lower())


def split_camel(text: str) -> str:
    """``"KickHard01"`` -> ``"Kick Hard01"``: a query's camel-case words, apart.

    Documents hold both the joined word and its parts (``search_normalise``),
    so the parts of a query find both ways of writing it.
    """
    return _CAMEL.sub(" ", text)


def query_words(text: str) -> tuple[list[str], list[str]]:
    """The words of a web-search query, as ``(wanted, excluded)``.

    ``"Kick01 -noise"`` -> ``(["kick", "01"], ["noise"])``; quotes and other
    punctuation are dropped.
    """
    wanted: list[str] = []
    excluded: list[str] = []
    kept, dropped = split_exclusions(text)
    for target, tokens in ((wanted, kept), (excluded, dropped)):
        for word in (word for token in tokens for word in words(token)):
            if word not in target and len(target) < 16:
                target.append(word)
    return wanted, excluded


def split_exclusions(text: str) -> tuple[list[str], list[str]]:
    """A web-search query's tokens as ``(kept, excluded)``, the latter without their "-".

    ``"dark pad -noise"`` -> ``(["dark", "pad"], ["noise"])``; a lone "-" is kept.
    """
    kept: list[str] = []
    excluded: list[str] = []
    for token in text.split():
        if token.startswith("-") and len(token) > 1:
            excluded.append(token[1:])
        else:
            kept.append(token)
    return kept, excluded


def raw_tsquery(alternatives: list[list[str]], excluded: list[str]) -> str:
    """``[["kick", "kit"], ["dark"]], ["noise"]`` -> ``('kick' | 'kit') & ('dark') & !'noise'``.

    Only for words from :func:`words` (letters and digits), which need no
    escaping inside quotes.
    """
    groups = [" | ".join(f"'{word}'" for word in group) for group in alternatives]
    query = " & ".join(f"({group})" for group in groups)
    return query + "".join(f" & !'{word}'" for word in excluded)


def highlighted(text: str | None) -> str:
    """Escape ``text`` for HTML and turn the headline markers into ``<mark>`` tags."""
    if not text:
        return ""
    escaped = html.escape(" ".join(text.split()), quote=True)
    if escaped.count(MARK_START) != escaped.count(MARK_END):
        return escaped.replace(MARK_START, "").replace(MARK_END, "")
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
