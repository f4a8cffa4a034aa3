"""Words: how query text is split, and the word-list statements (near spellings, completions).

The word list (``search_searchterm``) holds every user's words, private ones
included. A word is offered to a caller (as a near spelling or a completion)
only when it is a word of a sample the caller can see; the check happens
inside the index scan, before any LIMIT, so other users' words cannot crowd
out the caller's own. It must find a visible sample with that very spelling in
its name or tags: a private "kicking" must not be revealed by a public "kick".
First the word's witness, a public sample recorded as having it (migration
0005), is checked; it may be stale, so it is checked like any other sample.
Failing that, the search index finds up to :data:`VISIBLE_WORD_PROBE` visible
documents with the word's stem in their name or tags (weight A), and one of
them must hold the spelling.
"""

from __future__ import annotations

import re

from psycopg import sql

from search.backends.postgres.common import OWN_DOCUMENT, OWNED_BY_ME, rendered

TEXT_CONFIG = "english"
CONFIG = sql.SQL("{}::regconfig").format(sql.Literal(TEXT_CONFIG))
VISIBLE_WORD_PROBE = 20
AUTOCOMPLETE_COUNT_CAP = 100

_WORD = re.compile(r"[^\W_]+")
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
# A lower-case letter followed by a capital: "KickHard" -> "Kick Hard".
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def spelled_words(sample: str = "s") -> sql.Composable:
    """The spellings in the name and tags of the sample aliased ``sample``.

    Split as the triggers that fill the word list split them (:mod:`.schema`).
    """
    return sql.SQL(
        "to_tsvector('simple', search_normalise({name} || ' ' || array_to_string({tags}, ' ')))"
    ).format(name=sql.Identifier(sample, "name"), tags=sql.Identifier(sample, "tags"))


def has_spelling(word: sql.Composable, sample: str = "s") -> sql.Composable:
    """Whether ``word`` (an expression) is spelled so in the sample's name or tags."""
    return sql.SQL("{} @@ to_tsquery('simple', quote_literal({}))").format(
        spelled_words(sample), word
    )


def visible_word(word: sql.Composable, witness: sql.Composable) -> sql.Composable:
    """Whether the caller may see ``word``: its witness, or a probe of its matches, has it."""
    return sql.SQL(
        "(EXISTS (SELECT 1 FROM library_sample s"
        " WHERE s.id = {witness} AND s.visibility = %(public)s AND {spelled})"
        " OR EXISTS (SELECT 1 FROM ("
        "SELECT d.sample_id FROM search_sampledocument d"
        " WHERE d.document @@ to_tsquery({config}, quote_literal({word}) || ':A')"
        " AND (d.visibility = %(public)s OR d.owner_id = %(me)s)"
        " LIMIT %(probe)s) seen"
        " JOIN library_sample s ON s.id = seen.sample_id WHERE {spelled}))"
    ).format(witness=witness, spelled=has_spelling(word), config=CONFIG, word=word)


_TERM = visible_word(sql.SQL("term.word"), sql.SQL("term.witness"))

# For each query word, the visible words nearest to it (trigram distance, GiST).
NEAR_WORDS = rendered(
    sql.SQL(
        "SELECT wanted.word AS wanted, near.word AS near, 1 - near.distance AS similarity,"
        " wanted.position"
        " FROM unnest(%(words)s::text[]) WITH ORDINALITY AS wanted(word, position)"
        " CROSS JOIN LATERAL ("
        "SELECT term.word, term.word <-> wanted.word AS distance"
        " FROM search_searchterm term"
        " WHERE term.word %% wanted.word AND {visible}"
        " ORDER BY term.word <-> wanted.word LIMIT %(alternatives)s) near"
        " ORDER BY wanted.position, near.distance, near.word"
    ).format(visible=_TERM)
)

# Completions of the last word: visible words starting with it, shortest first,
# then (from three letters on) visible near spellings. Each is kept only when,
# with the words before it, it finds some of the caller's visible samples by
# name or tag (weight A), counted up to a cap.
AUTOCOMPLETE = rendered(
    sql.SQL(
        "WITH candidates AS ("
        "(SELECT term.word, false AS fuzzy FROM search_searchterm term"
        " WHERE term.word LIKE %(pattern)s AND {visible}"
        " ORDER BY length(term.word), term.word LIMIT %(many)s)"
        " UNION ALL"
        " (SELECT term.word, true FROM search_searchterm term"
        " WHERE %(try_fuzzy)s AND term.word %% %(prefix)s AND term.word NOT LIKE %(pattern)s"
        " AND {visible}"
        " ORDER BY term.word <-> %(prefix)s LIMIT %(few)s))"
        " SELECT c.word, c.fuzzy, found.n FROM candidates c"
        " CROSS JOIN LATERAL ("
        "SELECT to_tsquery({config}, quote_literal(c.word) || ':A') AS word_query) w"
        " CROSS JOIN LATERAL ("
        "SELECT CASE WHEN %(context)s = '' THEN w.word_query"
        " ELSE websearch_to_tsquery({config}, search_normalise(%(context)s)) && w.word_query"
        " END AS query) q"
        " CROSS JOIN LATERAL ("
        "SELECT count(*) FROM (SELECT 1 FROM search_sampledocument d"
        " WHERE ({owned} AND {own_document} @@ q.query)"
        " OR (d.visibility = %(public)s AND d.document @@ q.query)"
        " LIMIT %(cap)s) capped) AS found(n)"
        " WHERE found.n > 0"
        " ORDER BY c.fuzzy, found.n DESC, length(c.word), c.word LIMIT %(limit)s"
    ).format(visible=_TERM, config=CONFIG, owned=OWNED_BY_ME, own_document=OWN_DOCUMENT)
)


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

    A tsquery value (sent as a parameter), only for words from :func:`words`
    (letters and digits), which need no escaping inside quotes.
    """
    groups = [" | ".join(f"'{word}'" for word in group) for group in alternatives]
    query = " & ".join(f"({group})" for group in groups)
    return query + "".join(f" & !'{word}'" for word in excluded)


def near_spellings(
    wanted: list[str],
    *,
    near_rows: list | None,
    expanded: dict[str, list[str]] | None,
    relative: float,
) -> dict[str, list[str]]:
    """Each wanted word's visible near spellings worth trying, from :data:`NEAR_WORDS` rows.

    ``expanded`` (a page's, already found) is kept to the words as the word
    list spells them, which alone may go into a raw tsquery. Otherwise, nearest
    first, a word much further than the nearest is noise ("snap" for "snre",
    beside "snr" and "snare"): it must be at least ``relative`` as similar.
    """
    if expanded is not None:
        kept = {
            word: [near for near in nears if words(near) == [near]]
            for word, nears in expanded.items()
            if word in wanted
        }
        return {word: nears for word, nears in kept.items() if nears}
    found: dict[str, list[str]] = {}
    best: dict[str, float] = {}
    for word, near, similarity, *_position in near_rows or []:
        best.setdefault(word, similarity)
        if similarity >= best[word] * relative:
            found.setdefault(word, []).append(near)
    return found
