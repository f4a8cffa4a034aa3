"""The public samples' search rows in a narrow table of their own, kept by triggers.

``search_publicdocument`` mirrors the rows of ``search_sampledocument`` whose
visibility is public, with only what ranking reads (id, owner, created_at,
document). Statement-level triggers on ``search_sampledocument`` keep it
current in the same transaction as every change there (which itself only
triggers write): a row turned private leaves at once, so the table never
holds a sample its readers may not see.
"""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

TRIGGERS = """
CREATE FUNCTION search_public_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_publicdocument (sample_id, owner_id, created_at, document)
    SELECT sample_id, owner_id, created_at, document FROM new_rows WHERE visibility = 'public'
    ON CONFLICT (sample_id) DO UPDATE SET
        owner_id = EXCLUDED.owner_id, created_at = EXCLUDED.created_at,
        document = EXCLUDED.document;
    RETURN NULL;
END
$$;

CREATE FUNCTION search_public_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_publicdocument public
    USING new_rows WHERE public.sample_id = new_rows.sample_id
      AND new_rows.visibility <> 'public';
    INSERT INTO search_publicdocument (sample_id, owner_id, created_at, document)
    SELECT sample_id, owner_id, created_at, document FROM new_rows WHERE visibility = 'public'
    ON CONFLICT (sample_id) DO UPDATE SET
        owner_id = EXCLUDED.owner_id, created_at = EXCLUDED.created_at,
        document = EXCLUDED.document;
    RETURN NULL;
END
$$;

CREATE FUNCTION search_public_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_publicdocument public
    USING old_rows WHERE public.sample_id = old_rows.sample_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER search_public_inserted AFTER INSERT ON search_sampledocument
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_public_inserted();

CREATE TRIGGER search_public_updated AFTER UPDATE ON search_sampledocument
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_public_updated();

CREATE TRIGGER search_public_deleted AFTER DELETE ON search_sampledocument
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_public_deleted();

-- Rows stored before this migration.
INSERT INTO search_publicdocument (sample_id, owner_id, created_at, document)
SELECT sample_id, owner_id, created_at, document FROM search_sampledocument
WHERE visibility = 'public';
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS search_public_deleted ON search_sampledocument;
DROP TRIGGER IF EXISTS search_public_updated ON search_sampledocument;
DROP TRIGGER IF EXISTS search_public_inserted ON search_sampledocument;
DROP FUNCTION IF EXISTS search_public_deleted();
DROP FUNCTION IF EXISTS search_public_updated();
DROP FUNCTION IF EXISTS search_public_inserted();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0006_own_document_owner_gin"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicDocument",
            fields=[
                ("sample_id", models.UUIDField(primary_key=True, serialize=False)),
                ("owner_id", models.BigIntegerField()),
                ("created_at", models.DateTimeField()),
                ("document", django.contrib.postgres.search.SearchVectorField()),
            ],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GinIndex(
                        fields=["document"], name="search_public_document_gin"
                    )
                ],
            },
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
