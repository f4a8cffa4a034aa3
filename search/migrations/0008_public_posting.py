"""Ranked postings: each public document's words, each with the rank it gives.

``search_publicposting`` holds one row per (public sample, word of its
document), with the ``ts_rank`` the sample gets for a search of that word
alone. A B-tree on (word, rank, created_at, sample_id) then hands over a
one-word search's best public matches in rank order, and their number from
the index alone, where ranking through the GIN index reads every match's
document (a common word matches thousands). Statement-level triggers on
``search_publicdocument`` keep it current in the same transaction, as that
table is kept from ``search_sampledocument`` (migration 0007).

The ranks are computed with the backend's default weights (``POSTING_WEIGHTS``
in ``search.models``); a backend configured with other weights ranks through
the GIN index instead.
"""

from django.db import migrations, models

FUNCTIONS = r"""
-- The tsquery that matches exactly this lexeme, taken as it is (no parsing or
-- stemming again): quoted, with quotes and backslashes escaped.
CREATE FUNCTION search_lexeme_query(lexeme text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''')::tsquery
$$;

CREATE FUNCTION search_postings_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_publicposting (sample_id, lexeme, owner_id, created_at, rank)
    SELECT d.sample_id, word.lexeme, d.owner_id, d.created_at,
           ts_rank('{0.1,0.2,0.4,1.0}'::float4[], d.document, search_lexeme_query(word.lexeme))
    FROM new_rows d CROSS JOIN LATERAL unnest(d.document) word;
    RETURN NULL;
END
$$;

CREATE FUNCTION search_postings_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_publicposting posting USING new_rows d JOIN old_rows o USING (sample_id)
    WHERE (d.document IS DISTINCT FROM o.document
       OR d.owner_id <> o.owner_id OR d.created_at <> o.created_at) AND posting.sample_id = d.sample_id;
    INSERT INTO search_publicposting (sample_id, lexeme, owner_id, created_at, rank)
    SELECT d.sample_id, word.lexeme, d.owner_id, d.created_at,
           ts_rank('{0.1,0.2,0.4,1.0}'::float4[], d.document, search_lexeme_query(word.lexeme))
    FROM new_rows d JOIN old_rows o USING (sample_id) CROSS JOIN LATERAL unnest(d.document) word
    WHERE (d.document IS DISTINCT FROM o.document
       OR d.owner_id <> o.owner_id OR d.created_at <> o.created_at);
    RETURN NULL;
END
$$;

CREATE FUNCTION search_postings_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_publicposting posting
    USING old_rows WHERE posting.sample_id = old_rows.sample_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER search_postings_inserted AFTER INSERT ON search_publicdocument
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_postings_inserted();

CREATE TRIGGER search_postings_updated AFTER UPDATE ON search_publicdocument
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_postings_updated();

CREATE TRIGGER search_postings_deleted AFTER DELETE ON search_publicdocument
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_postings_deleted();

-- Documents stored before this migration.
    INSERT INTO search_publicposting (sample_id, lexeme, owner_id, created_at, rank)
    SELECT d.sample_id, word.lexeme, d.owner_id, d.created_at,
           ts_rank('{0.1,0.2,0.4,1.0}'::float4[], d.document, search_lexeme_query(word.lexeme))
    FROM search_publicdocument d CROSS JOIN LATERAL unnest(d.document) word;
"""

DROP_FUNCTIONS = """
DROP TRIGGER IF EXISTS search_postings_deleted ON search_publicdocument;
DROP TRIGGER IF EXISTS search_postings_updated ON search_publicdocument;
DROP TRIGGER IF EXISTS search_postings_inserted ON search_publicdocument;
DROP FUNCTION IF EXISTS search_postings_deleted();
DROP FUNCTION IF EXISTS search_postings_updated();
DROP FUNCTION IF EXISTS search_postings_inserted();
DROP FUNCTION IF EXISTS search_lexeme_query(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0007_public_document"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicPosting",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "sample_id",
                        "lexeme",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("sample_id", models.UUIDField()),
                ("lexeme", models.TextField()),
                ("owner_id", models.BigIntegerField()),
                ("created_at", models.DateTimeField()),
                ("rank", models.FloatField()),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["lexeme", "-rank", "-created_at", "sample_id"],
                        include=["owner_id"],
                        name="search_posting_ranked",
                    )
                ],
            },
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
    ]
