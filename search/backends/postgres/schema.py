"""The database objects the backend owns, made from the Python definitions they depend on.

Migrations create the search tables and the indexes that copy nothing; what
follows a Python constant is made here, by :func:`setup` (run after every
``migrate`` and by ``manage.py search_rebuild``), as Wagtail's backends own
their index:

- the SQL functions that build a sample's search row (``search_rows_of``:
  the columns of ``SampleDocument``'s fields, ``Visibility.PUBLIC``
  for public collections, :data:`~.words.TEXT_CONFIG`), add words to the word
  list (``SearchTerm.word``'s length) and write rows (``search_refresh``);
- the triggers that call them in the same transaction as any change to a
  sample (fired only when a copied column changes), a collection or its items;
  triggers, not signals, so ``bulk_create``, ``update()``, COPY and raw SQL
  keep the rows current too;
- the ranked postings of public rows (``PublicPosting``, ranked with
  :data:`.postings.RANK_WEIGHTS`), kept by triggers on ``search_sampledocument``;
- the GIN index of public rows' words (``Visibility.PUBLIC``);
- one partial HNSW index of the embeddings per category in
  ``library.analysis.CATEGORIES`` (a category added there gets its index, one
  removed loses it).

:func:`setup` records a fingerprint of what it made (a comment on
``search_refresh``) and does nothing while it matches and the triggers and
indexes are all there; when what a search row or a posting holds changed,
every one is rewritten, and missing ones are written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from django.db import connection, transaction
from psycopg import sql

from library.analysis import CATEGORIES
from library.models import Visibility
from search.backends.postgres import postings
from search.backends.postgres.words import TEXT_CONFIG
from search.models import SampleDocument, SearchTerm

# Words shorter than this are not worth a near spelling or a completion.
MIN_WORD = 2
CATEGORY_INDEX_PREFIX = "search_sample_embedding_"
# The columns of the search row that are not copies of the sample's.
_BUILT = ("sample_id", "document", "private_document")
# What a sample's text is made of (weights A and C of its document).
_TEXT_COLUMNS = ("name", "tags", "description")


def mirrored() -> tuple[str, ...]:
    """The search row's columns copied from the sample as they are (filters, privacy)."""
    return tuple(
        field.column for field in SampleDocument._meta.concrete_fields if field.column not in _BUILT
    )


def _columns(names, alias: str | None = None) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.Identifier(alias, name) if alias else sql.Identifier(name) for name in names
    )


def _functions() -> list[sql.Composable]:
    """``CREATE OR REPLACE`` statements of the functions, in the order they need each other.

    The first :data:`_ROW_FUNCTIONS` define what a search row holds.
    """
    public = sql.Literal(Visibility.PUBLIC.value)
    config = sql.Literal(TEXT_CONFIG)
    fields = SampleDocument._meta.concrete_fields
    row_columns = [field.column for field in fields]
    row_type = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(field.column), sql.SQL(field.db_type(connection)))
        for field in fields
    )
    built = {
        "sample_id": sql.SQL("s.id"),
        "document": sql.SQL(
            "setweight(to_tsvector({config}::regconfig,"
            " search_normalise(s.name || ' ' || array_to_string(s.tags, ' '))), 'A')"
            " || setweight(to_tsvector({config}::regconfig,"
            " search_normalise(c.public_names)), 'B')"
            " || setweight(to_tsvector({config}::regconfig,"
            " search_normalise(search_plain(s.description))), 'C')"
        ).format(config=config),
        "private_document": sql.SQL(
            "CASE WHEN c.private_names <> '' THEN setweight(to_tsvector({config}::regconfig,"
            " search_normalise(c.private_names)), 'B') END"
        ).format(config=config),
    }
    select = sql.SQL(", ").join(built.get(name, sql.Identifier("s", name)) for name in row_columns)
    words = sql.SQL(
        "FROM library_sample s, unnest(tsvector_to_array(to_tsvector('simple',"
        " search_normalise(s.name || ' ' || array_to_string(s.tags, ' '))))) AS word"
        " WHERE s.id = ANY(sample_ids) AND length(word) BETWEEN {low} AND {high}"
        " AND word ~ '^[[:alnum:]]+$'"
    ).format(
        low=sql.Literal(MIN_WORD),
        high=sql.Literal(SearchTerm._meta.get_field("word").max_length),
    )
    upsert = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name))
        for name in row_columns
        if name != "sample_id"
    )
    return [
        # Names split where producers split them: "Kick_01.wav", "BD808", "kick-hard",
        # and camel case kept whole and in parts ("KickHard Kick Hard").
        sql.SQL(
            r"""CREATE OR REPLACE FUNCTION search_normalise(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN split ~ '[[:lower:]][[:upper:]]'
                THEN split || ' '
                     || regexp_replace(split, '([[:lower:]])([[:upper:]])', '\1 \2', 'g')
                ELSE split END
    FROM (
        SELECT regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(coalesce(value, ''), '[_./\\|+]+', ' ', 'g'),
                    '([[:alnum:]])-(?=[[:alnum:]])', '\1 ', 'g'),
                '([[:alpha:]])([[:digit:]])', '\1 \2', 'g'),
            '([[:digit:]])([[:alpha:]])', '\1 \2', 'g') AS split
    ) normalised
$$"""
        ),
        # Descriptions are HTML: tags and entities leave before words are taken.
        sql.SQL(
            r"""CREATE OR REPLACE FUNCTION search_plain(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(replace(
        regexp_replace(coalesce(value, ''), '<[^>]*>', ' ', 'g'),
        '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&nbsp;', ' '), '&amp;', '&')
$$"""
        ),
        # Its return type is the search row's: dropped first, as a new column changes it.
        sql.SQL("DROP FUNCTION IF EXISTS search_rows_of(uuid[])"),
        sql.SQL(
            "CREATE FUNCTION search_rows_of(sample_ids uuid[]) RETURNS TABLE ({row})"
            " LANGUAGE sql STABLE AS $$"
            " SELECT {select} FROM library_sample s CROSS JOIN LATERAL ("
            "SELECT coalesce(string_agg(col.name, ' ') FILTER (WHERE col.visibility = {public}),"
            " '') AS public_names,"
            " coalesce(string_agg(col.name, ' ') FILTER (WHERE col.visibility <> {public}), '')"
            " AS private_names"
            " FROM library_collectionitem item"
            " JOIN library_collection col ON col.id = item.collection_id"
            " WHERE item.sample_id = s.id AND col.owner_id = s.owner_id) c"
            " WHERE s.id = ANY(sample_ids) $$"
        ).format(select=select, public=public, row=row_type),
        # New words, in sorted order (two uploads never deadlock over the same new
        # words), each with a public "witness" sample when there is one; known words
        # without a witness get one, skipping rows another upload holds.
        sql.SQL(
            "CREATE OR REPLACE FUNCTION search_add_terms(sample_ids uuid[]) RETURNS void"
            " LANGUAGE sql AS $$"
            " INSERT INTO search_searchterm (word, witness)"
            " SELECT word, (array_agg(s.id ORDER BY s.id)"
            " FILTER (WHERE s.visibility = {public}))[1] {words}"
            " GROUP BY word ORDER BY word ON CONFLICT (word) DO NOTHING;"
            " WITH found AS (SELECT DISTINCT ON (word) word, s.id AS sample_id {words}"
            " AND s.visibility = {public} ORDER BY word, s.id),"
            " unwitnessed AS (SELECT term.word FROM search_searchterm term"
            " WHERE term.word IN (SELECT word FROM found) AND term.witness IS NULL"
            " ORDER BY term.word FOR UPDATE SKIP LOCKED)"
            " UPDATE search_searchterm term SET witness = found.sample_id FROM found"
            " WHERE term.word = found.word AND term.word IN (SELECT word FROM unwitnessed);"
            " $$"
        ).format(public=public, words=words),
        # With add_missing, rows are written whole; without, only the collection part of
        # rows that exist (while Django deletes a sample, re-inserting its row would
        # break the foreign key at commit).
        sql.SQL(
            "CREATE OR REPLACE FUNCTION search_refresh(sample_ids uuid[], add_missing boolean)"
            " RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
            " IF add_missing THEN"
            " INSERT INTO search_sampledocument ({columns})"
            " SELECT * FROM search_rows_of(sample_ids)"
            " ON CONFLICT (sample_id) DO UPDATE SET {upsert};"
            " PERFORM search_add_terms(sample_ids);"
            " ELSE"
            " UPDATE search_sampledocument target"
            " SET document = fresh.document, private_document = fresh.private_document"
            " FROM search_rows_of(sample_ids) fresh WHERE target.sample_id = fresh.sample_id;"
            " END IF; END $$"
        ).format(columns=_columns(row_columns), upsert=upsert),
        *(
            sql.SQL(
                "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN PERFORM search_refresh({ids}, {add}); RETURN NULL; END $$"
            ).format(name=sql.Identifier(name), ids=sql.SQL(ids), add=sql.Literal(add))
            for name, ids, add in _TRIGGER_FUNCTIONS
        ),
    ]


_ROW_FUNCTIONS = 4  # search_normalise, search_plain, and search_rows_of dropped and made


# Trigger functions: (name, the samples to refresh, whether rows are written whole).
_TRIGGER_FUNCTIONS = (
    ("search_sample_inserted", "ARRAY(SELECT id FROM new_rows)", True),
    ("search_sample_changed", "ARRAY[NEW.id]", True),
    (
        "search_collection_changed",
        "ARRAY(SELECT item.sample_id FROM library_collectionitem item"
        " WHERE item.collection_id = NEW.id)",
        False,
    ),
    ("search_items_inserted", "ARRAY(SELECT DISTINCT sample_id FROM new_rows)", False),
    ("search_items_deleted", "ARRAY(SELECT DISTINCT sample_id FROM old_rows)", False),
    ("search_item_moved", "ARRAY[OLD.sample_id, NEW.sample_id]", False),
)


def _row_columns(row: str, names) -> sql.Composable:
    """``OLD.name, OLD.tags, ...``: a trigger's row, unquoted (``"OLD"`` is no row)."""
    return sql.SQL(", ").join(
        sql.SQL("{}.{}").format(sql.SQL(row), sql.Identifier(name)) for name in names
    )


def _triggers() -> list[sql.Composable]:
    copied = (*_TEXT_COLUMNS, *mirrored())
    return [
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_sample_inserted AFTER INSERT ON library_sample"
            " REFERENCING NEW TABLE AS new_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION search_sample_inserted()"
        ),
        # Only when something the search row holds changes (not the analysis' other results).
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_sample_changed AFTER UPDATE ON library_sample"
            " FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new}))"
            " EXECUTE FUNCTION search_sample_changed()"
        ).format(old=_row_columns("OLD", copied), new=_row_columns("NEW", copied)),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_collection_changed"
            " AFTER UPDATE OF name, visibility, owner_id ON library_collection FOR EACH ROW"
            " WHEN (OLD.name IS DISTINCT FROM NEW.name"
            " OR OLD.visibility IS DISTINCT FROM NEW.visibility"
            " OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)"
            " EXECUTE FUNCTION search_collection_changed()"
        ),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_items_inserted AFTER INSERT"
            " ON library_collectionitem REFERENCING NEW TABLE AS new_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION search_items_inserted()"
        ),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_items_deleted AFTER DELETE"
            " ON library_collectionitem REFERENCING OLD TABLE AS old_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION search_items_deleted()"
        ),
        sql.SQL(
            "CREATE OR REPLACE TRIGGER search_item_moved"
            " AFTER UPDATE OF sample_id, collection_id ON library_collectionitem FOR EACH ROW"
            " WHEN (OLD.sample_id IS DISTINCT FROM NEW.sample_id"
            " OR OLD.collection_id IS DISTINCT FROM NEW.collection_id)"
            " EXECUTE FUNCTION search_item_moved()"
        ),
    ]


def category_indexes() -> dict[str, str]:
    """The partial HNSW index of each category: index name -> category."""
    return {f"{CATEGORY_INDEX_PREFIX}{category}": category for category in CATEGORIES}


def _category_index(name: str, category: str) -> sql.Composable:
    # pgvector's defaults (m = 16, ef_construction = 64): recall@10 above 0.95 at
    # ef_search 100 on 100,000 samples (benchmarks/bench_search.py).
    return sql.SQL(
        "CREATE INDEX IF NOT EXISTS {name} ON library_sample"
        " USING hnsw (embedding vector_cosine_ops) WHERE category = {category}"
    ).format(name=sql.Identifier(name), category=sql.Literal(category))


# The per-category HNSW indexes there are: hnsw, on library_sample, partial on category.
EXISTING_CATEGORY_INDEXES = sql.SQL(
    "SELECT index.relname FROM pg_index x"
    " JOIN pg_class index ON index.oid = x.indexrelid"
    " JOIN pg_am am ON am.oid = index.relam"
    " WHERE x.indrelid = 'library_sample'::regclass AND am.amname = 'hnsw'"
    " AND pg_get_expr(x.indpred, x.indrelid) LIKE '%%category%%'"
)
PUBLIC_WORDS_INDEX = "search_document_public_gin"
# The predicate of an index, or no row when there is no such index.
PREDICATE = sql.SQL(
    "SELECT pg_get_expr(x.indpred, x.indrelid) FROM pg_index x WHERE x.indexrelid = to_regclass({})"
).format(sql.Literal(PUBLIC_WORDS_INDEX))


def _public_words_index() -> sql.Composable:
    """The GIN index of public rows' words: other people's text matches are read through it.

    So a text search never reads the matches of other users' private samples.
    """
    return sql.SQL(
        "CREATE INDEX {name} ON search_sampledocument USING gin (document)"
        " WHERE visibility = {public}"
    ).format(name=sql.Identifier(PUBLIC_WORDS_INDEX), public=sql.Literal(Visibility.PUBLIC.value))


def _make_public_words_index(cursor) -> None:
    """Make the public words' index, or make it again if it selects another visibility."""
    cursor.execute(PREDICATE.as_string(None))
    found = cursor.fetchone()
    if found is not None and f"'{Visibility.PUBLIC.value}'" in (found[0] or ""):
        return
    if found is not None:
        _run(cursor, sql.SQL("DROP INDEX {}").format(sql.Identifier(PUBLIC_WORDS_INDEX)))
    _run(cursor, _public_words_index())


# Search's triggers there are (a table dropped and made again takes its own with it).
TRIGGERS_THERE = sql.SQL(
    "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'search%%'"
    " AND tgrelid IN ('library_sample'::regclass, 'library_collection'::regclass,"
    " 'library_collectionitem'::regclass, 'search_sampledocument'::regclass)"
)
FINGERPRINT = sql.SQL(
    "SELECT obj_description(to_regprocedure('search_refresh(uuid[], boolean)'), 'pg_proc')"
)
MISSING = sql.SQL(
    "SELECT search_refresh(ARRAY(SELECT s.id FROM library_sample s WHERE NOT EXISTS"
    " (SELECT 1 FROM search_sampledocument d WHERE d.sample_id = s.id)), true)"
)
EVERY_ROW = sql.SQL("SELECT search_refresh(ARRAY(SELECT id FROM library_sample), true)")


def statements() -> Iterator[sql.Composable]:
    """Everything :func:`setup` makes, in order (but the drop of unwanted indexes)."""
    yield from _functions()
    yield from postings.functions()
    yield from _triggers()
    yield from postings.triggers()
    yield _public_words_index()
    for name, category in category_indexes().items():
        yield _category_index(name, category)


def fingerprint() -> str:
    """What the Python definitions make now, as one short string (stored in the database)."""
    digest = hashlib.sha256()
    for statement in statements():
        digest.update(statement.as_string(None).encode())
    rows = _digest(_functions()[:_ROW_FUNCTIONS])
    ranks = _digest(postings.functions())
    return f"objects {digest.hexdigest()[:16]} rows {rows} postings {ranks}"


def _digest(statements: list[sql.Composable]) -> str:
    text = "".join(statement.as_string(None) for statement in statements)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _part(fingerprint: str | None, name: str) -> str | None:
    """One part of a fingerprint (``rows``, ``postings``); None when there is none."""
    words = (fingerprint or "").split()
    return words[words.index(name) + 1] if name in words[:-1] else None


def _all_there(cursor) -> bool:
    """Whether the triggers and indexes setup() makes are all there, as made."""
    cursor.execute(TRIGGERS_THERE.as_string(None))
    (triggers,) = cursor.fetchone()
    cursor.execute(EXISTING_CATEGORY_INDEXES.as_string(None))
    indexes = {name for (name,) in cursor.fetchall()}
    cursor.execute(PREDICATE.as_string(None))
    public_words = cursor.fetchone() is not None
    made = len(_triggers()) + len(postings.triggers())
    return triggers == made and indexes == set(category_indexes()) and public_words


def _run(cursor, statement: sql.Composable) -> None:
    # No parameters: the statements hold their values as literals.
    cursor.execute(statement.as_string(None))


def setup(*, force: bool = False) -> bool:
    """Make the functions, triggers and category indexes follow the Python definitions.

    Idempotent; returns whether anything was (re)made. ``force`` remakes them
    even when the stored fingerprint says they are current (after a hand edit).
    """
    wanted = fingerprint()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FINGERPRINT.as_string(None))
        (stored,) = cursor.fetchone()
        if stored == wanted and not force and _all_there(cursor):
            return False
        made = (*_functions(), *postings.functions(), *_triggers(), *postings.triggers())
        for statement in made:
            _run(cursor, statement)
        _make_public_words_index(cursor)
        wanted_indexes = category_indexes()
        cursor.execute(EXISTING_CATEGORY_INDEXES.as_string(None))
        existing = {name for (name,) in cursor.fetchall()}
        for name in existing - set(wanted_indexes):
            _run(cursor, sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        for name, category in wanted_indexes.items():
            if name not in existing:
                _run(cursor, _category_index(name, category))
        # Postings and rows built by an earlier definition are rebuilt (postings first:
        # rebuilt rows rewrite the postings of the documents that changed); a first
        # setup (no fingerprint) follows migrations that built them as these do.
        changed = stored is not None and _part(stored, "postings") != _part(wanted, "postings")
        _run(cursor, postings.rebuild() if changed else postings.missing())
        changed = stored is not None and _part(stored, "rows") != _part(wanted, "rows")
        _run(cursor, EVERY_ROW if changed else MISSING)
        _run(
            cursor,
            sql.SQL("COMMENT ON FUNCTION search_refresh(uuid[], boolean) IS {}").format(
                sql.Literal(wanted)
            ),
        )
    return True
