"""A public "witness" sample per word, so showing a word rarely needs a search.

Near spellings and completions are offered only when the caller can see a
sample with that word. Proving it by searching the word's matches costs a
millisecond or more for a common word; checking one public sample known to
have had it costs a primary-key lookup. ``search_add_terms`` now records such
a sample for new words, and for known words that have none yet (a word seen
only in private samples until now). Rows are locked with ``SKIP LOCKED``: an
upload never waits for another to record a witness, and the worst a skipped
word costs is the slower check.
"""

from django.db import migrations, models

ADD_TERMS = """
CREATE OR REPLACE FUNCTION search_add_terms(sample_ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO search_searchterm (word, witness)
    SELECT word, (array_agg(s.id ORDER BY s.id) FILTER (WHERE s.visibility = 'public'))[1]
    FROM library_sample s,
    unnest(tsvector_to_array(to_tsvector(
        'simple', search_normalise(s.name || ' ' || array_to_string(s.tags, ' '))))) AS word

    WHERE s.id = ANY(sample_ids) AND length(word) BETWEEN 2 AND 100 AND word ~ '^[[:alnum:]]+$'
    GROUP BY word
    ORDER BY word
    ON CONFLICT (word) DO NOTHING;

    WITH found AS (
        SELECT DISTINCT ON (word) word, s.id AS sample_id
        FROM library_sample s,
    unnest(tsvector_to_array(to_tsvector(
        'simple', search_normalise(s.name || ' ' || array_to_string(s.tags, ' '))))) AS word

        WHERE s.id = ANY(sample_ids) AND s.visibility = 'public' AND length(word) BETWEEN 2 AND 100 AND word ~ '^[[:alnum:]]+$'
        ORDER BY word, s.id
    ), unwitnessed AS (
        SELECT term.word FROM search_searchterm term
        WHERE term.word IN (SELECT word FROM found) AND term.witness IS NULL
        ORDER BY term.word
        FOR UPDATE SKIP LOCKED
    )
    UPDATE search_searchterm term SET witness = found.sample_id
    FROM found
    WHERE term.word = found.word AND term.word IN (SELECT word FROM unwitnessed);
$$;
"""

OLD_ADD_TERMS = """
CREATE OR REPLACE FUNCTION search_add_terms(sample_ids uuid[]) RETURNS void
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
"""

# Words recorded before this migration: the first public sample that has each.
BACKFILL = """
UPDATE search_searchterm term SET witness = found.sample_id
FROM (
    SELECT DISTINCT ON (word) word, s.id AS sample_id
    FROM library_sample s,
    unnest(tsvector_to_array(to_tsvector(
        'simple', search_normalise(s.name || ' ' || array_to_string(s.tags, ' '))))) AS word

    WHERE s.visibility = 'public'
    ORDER BY word, s.id
) found
WHERE term.word = found.word
"""


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_own_document_gin"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchterm",
            name="witness",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.RunSQL(ADD_TERMS, OLD_ADD_TERMS),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
