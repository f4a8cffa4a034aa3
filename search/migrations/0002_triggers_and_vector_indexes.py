"""Keep search rows and the word list current in the database; index the embeddings.

Triggers, not Django signals: ``bulk_create``, ``queryset.update()``, COPY and
raw SQL change samples too, and a signal would miss them.

- A sample's search row is (re)built when the sample is inserted, or when
  anything it copies changes (text, owner, visibility, the analysis results
  filters use). Bulk inserts fire once per statement.
- Its collection part follows collection renames, visibility changes and
  items being added or removed. Those only update existing rows: while
  Django deletes a sample it removes the sample's collection items and its
  search row in some order, and re-inserting the row then would break the
  foreign key at commit.
- Words of names and tags go into ``search_searchterm`` (insert only, in
  sorted order so two uploads never deadlock over the same new words).

Text is normalised before it is parsed: ``Kick_01.wav`` and ``BD808`` split
into words, HTML tags and entities leave descriptions. Queries pass through
the same ``search_normalise``, so both sides agree.

``library_sample.embedding`` gets one HNSW index (cosine) for unfiltered and
loosely filtered "sounds like" queries, plus partial ones per category and for loops and one-shots: those are the
filters most tied to timbre ("like this snare, but kicks"), and inside their
own graph such a query stays fast and exact where a filtered walk of the
whole graph would not.
"""

from django.db import migrations

CATEGORIES = (
    "kick", "snare", "clap", "hihat", "cymbal", "tom", "percussion", "bass", "synth", "keys",
    "pad", "vocal", "fx", "drum_loop", "music_loop", "other",
)  # fmt: skip

FUNCTIONS = r"""
CREATE FUNCTION search_normalise(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(
        regexp_replace(
            regexp_replace(coalesce(value, ''), '[_./\\|+]+', ' ', 'g'),
            '([[:alpha:]])([[:digit:]])', '\1 \2', 'g'),
        '([[:digit:]])([[:alpha:]])', '\1 \2', 'g')
$$;

CREATE FUNCTION search_plain(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(replace(
        regexp_replace(coalesce(value, ''), '<[^>]*>', ' ', 'g'),
        '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&nbsp;', ' '), '&amp;', '&')
$$;

CREATE FUNCTION search_rows_of(sample_ids uuid[]) RETURNS TABLE (
    sample_id uuid, owner_id bigint, visibility text, created_at timestamptz, category text,
    bpm double precision, key text, mode text, duration double precision,
    loudness_lufs double precision, is_loop boolean, tags varchar[], document tsvector,
    private_document tsvector
)
LANGUAGE sql STABLE AS $$
    SELECT s.id, s.owner_id, s.visibility, s.created_at, s.category, s.bpm, s.key, s.mode,
           s.duration, s.loudness_lufs, s.is_loop, s.tags,
           setweight(to_tsvector('english',
               search_normalise(s.name || ' ' || array_to_string(s.tags, ' '))), 'A')
           || setweight(to_tsvector('english', search_normalise(c.public_names)), 'B')
           || setweight(to_tsvector('english', search_normalise(search_plain(s.description))), 'C'),
           CASE WHEN c.private_names <> ''
               THEN setweight(to_tsvector('english', search_normalise(c.private_names)), 'B')
           END
    FROM library_sample s
    CROSS JOIN LATERAL (
        SELECT coalesce(string_agg(col.name, ' ') FILTER (WHERE col.visibility = 'public'), '')
                   AS public_names,
               coalesce(string_agg(col.name, ' ') FILTER (WHERE col.visibility <> 'public'), '')
                   AS private_names
        FROM library_collectionitem item
        JOIN library_collection col ON col.id = item.collection_id
        WHERE item.sample_id = s.id AND col.owner_id = s.owner_id
    ) c
    WHERE s.id = ANY(sample_ids)
$$;

CREATE FUNCTION search_add_terms(sample_ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_searchterm (word)
    SELECT DISTINCT word
    FROM library_sample s,
         unnest(tsvector_to_array(to_tsvector(
             'simple', search_normalise(s.name || ' ' || array_to_string(s.tags, ' '))))) AS word
    WHERE s.id = ANY(sample_ids) AND length(word) BETWEEN 2 AND 100 AND word ~ '^[[:alnum:]]+$'
    ORDER BY word
    ON CONFLICT (word) DO NOTHING
$$;

CREATE FUNCTION search_refresh(sample_ids uuid[], add_missing boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF add_missing THEN
        INSERT INTO search_sampledocument (
            sample_id, owner_id, visibility, created_at, category, bpm, key, mode, duration,
            loudness_lufs, is_loop, tags, document, private_document
        )
        SELECT * FROM search_rows_of(sample_ids)
        ON CONFLICT (sample_id) DO UPDATE SET
            owner_id = EXCLUDED.owner_id, visibility = EXCLUDED.visibility,
            created_at = EXCLUDED.created_at, category = EXCLUDED.category,
            bpm = EXCLUDED.bpm, key = EXCLUDED.key, mode = EXCLUDED.mode,
            duration = EXCLUDED.duration, loudness_lufs = EXCLUDED.loudness_lufs,
            is_loop = EXCLUDED.is_loop, tags = EXCLUDED.tags, document = EXCLUDED.document,
            private_document = EXCLUDED.private_document;
        PERFORM search_add_terms(sample_ids);
    ELSE
        UPDATE search_sampledocument target
        SET document = fresh.document, private_document = fresh.private_document
        FROM search_rows_of(sample_ids) fresh
        WHERE target.sample_id = fresh.sample_id;
    END IF;
END
$$;

CREATE FUNCTION search_sample_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(ARRAY(SELECT id FROM new_rows), true);
    RETURN NULL;
END
$$;

CREATE FUNCTION search_sample_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(ARRAY[NEW.id], true);
    RETURN NULL;
END
$$;

CREATE FUNCTION search_collection_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(ARRAY(
        SELECT item.sample_id FROM library_collectionitem item WHERE item.collection_id = NEW.id
    ), false);
    RETURN NULL;
END
$$;

CREATE FUNCTION search_items_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(ARRAY(SELECT DISTINCT sample_id FROM new_rows), false);
    RETURN NULL;
END
$$;

CREATE FUNCTION search_items_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(ARRAY(SELECT DISTINCT sample_id FROM old_rows), false);
    RETURN NULL;
END
$$;

CREATE FUNCTION search_item_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_refresh(ARRAY[OLD.sample_id, NEW.sample_id], false);
    RETURN NULL;
END
$$;

CREATE TRIGGER search_sample_inserted AFTER INSERT ON library_sample
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_sample_inserted();

CREATE TRIGGER search_sample_changed AFTER UPDATE ON library_sample FOR EACH ROW
    WHEN ((OLD.name, OLD.tags, OLD.description, OLD.owner_id, OLD.visibility, OLD.created_at,
           OLD.category, OLD.bpm, OLD.key, OLD.mode, OLD.duration, OLD.loudness_lufs,
           OLD.is_loop)
          IS DISTINCT FROM
          (NEW.name, NEW.tags, NEW.description, NEW.owner_id, NEW.visibility, NEW.created_at,
           NEW.category, NEW.bpm, NEW.key, NEW.mode, NEW.duration, NEW.loudness_lufs,
           NEW.is_loop))
    EXECUTE FUNCTION search_sample_changed();

CREATE TRIGGER search_collection_changed AFTER UPDATE OF name, visibility, owner_id
    ON library_collection FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.visibility IS DISTINCT FROM NEW.visibility
          OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION search_collection_changed();

CREATE TRIGGER search_items_inserted AFTER INSERT ON library_collectionitem
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_items_inserted();

CREATE TRIGGER search_items_deleted AFTER DELETE ON library_collectionitem
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_items_deleted();

CREATE TRIGGER search_item_moved AFTER UPDATE OF sample_id, collection_id
    ON library_collectionitem FOR EACH ROW
    WHEN (OLD.sample_id IS DISTINCT FROM NEW.sample_id
          OR OLD.collection_id IS DISTINCT FROM NEW.collection_id)
    EXECUTE FUNCTION search_item_moved();

-- Samples stored before this migration.
SELECT search_refresh(ARRAY(SELECT id FROM library_sample), true);
"""

DROP_FUNCTIONS = """
DROP TRIGGER IF EXISTS search_item_moved ON library_collectionitem;
DROP TRIGGER IF EXISTS search_items_deleted ON library_collectionitem;
DROP TRIGGER IF EXISTS search_items_inserted ON library_collectionitem;
DROP TRIGGER IF EXISTS search_collection_changed ON library_collection;
DROP TRIGGER IF EXISTS search_sample_changed ON library_sample;
DROP TRIGGER IF EXISTS search_sample_inserted ON library_sample;
DROP FUNCTION IF EXISTS search_item_moved();
DROP FUNCTION IF EXISTS search_items_deleted();
DROP FUNCTION IF EXISTS search_items_inserted();
DROP FUNCTION IF EXISTS search_collection_changed();
DROP FUNCTION IF EXISTS search_sample_changed();
DROP FUNCTION IF EXISTS search_sample_inserted();
DROP FUNCTION IF EXISTS search_refresh(uuid[], boolean);
DROP FUNCTION IF EXISTS search_add_terms(uuid[]);
DROP FUNCTION IF EXISTS search_rows_of(uuid[]);
DROP FUNCTION IF EXISTS search_plain(text);
DROP FUNCTION IF EXISTS search_normalise(text);
"""

# pgvector's defaults (m = 16, ef_construction = 64): recall@10 above 0.95 at
# ef_search 100 on 100,000 samples (see benchmarks/bench_search.py).
VECTOR_INDEXES = [
    "CREATE INDEX search_sample_embedding ON library_sample"
    " USING hnsw (embedding vector_cosine_ops)",
    *(
        f"CREATE INDEX search_sample_embedding_{category} ON library_sample"
        f" USING hnsw (embedding vector_cosine_ops) WHERE category = '{category}'"
        for category in CATEGORIES
    ),
    "CREATE INDEX search_sample_embedding_loops ON library_sample"
    " USING hnsw (embedding vector_cosine_ops) WHERE is_loop",
    "CREATE INDEX search_sample_embedding_one_shots ON library_sample"
    " USING hnsw (embedding vector_cosine_ops) WHERE NOT is_loop",
]
DROP_VECTOR_INDEXES = [
    "DROP INDEX IF EXISTS search_sample_embedding",
    *(f"DROP INDEX IF EXISTS search_sample_embedding_{category}" for category in CATEGORIES),
    "DROP INDEX IF EXISTS search_sample_embedding_loops",
    "DROP INDEX IF EXISTS search_sample_embedding_one_shots",
]


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
        ("library", "0002_initial"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.RunSQL(VECTOR_INDEXES, DROP_VECTOR_INDEXES),
    ]
