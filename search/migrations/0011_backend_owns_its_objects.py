"""The backend owns what follows Python constants; the narrow table of public rows goes.

Search's functions, triggers, ranked postings' ranks and per-category vector
indexes are made by the backend from the Python definitions they depend on
(``search/backends/postgres/schema.py``, run after every ``migrate``), no
longer by migrations 0002-0010. Here the objects only those migrations made
are dropped: ``search_publicdocument`` with the triggers that kept it and the
ones that wrote postings from it (the backend writes postings from
``search_sampledocument``). Nothing here names a category, a weight or a
visibility.

Migrating back past this one drops the backend's triggers and functions, so
that an earlier state never runs triggers written for a later one; the next
``migrate`` forward makes them again.
"""

from django.db import migrations

DROP = [
    "DROP TRIGGER IF EXISTS search_public_deleted ON search_sampledocument",
    "DROP TRIGGER IF EXISTS search_public_updated ON search_sampledocument",
    "DROP TRIGGER IF EXISTS search_public_inserted ON search_sampledocument",
    "DROP FUNCTION IF EXISTS search_public_deleted()",
    "DROP FUNCTION IF EXISTS search_public_updated()",
    "DROP FUNCTION IF EXISTS search_public_inserted()",
    "DROP TRIGGER IF EXISTS search_postings_deleted ON search_publicdocument",
    "DROP TRIGGER IF EXISTS search_postings_updated ON search_publicdocument",
    "DROP TRIGGER IF EXISTS search_postings_inserted ON search_publicdocument",
]


# What the backend's setup() makes and a library write could run (triggers, functions).
BACKEND_OBJECTS = """
DROP TRIGGER IF EXISTS search_sample_inserted ON library_sample;
DROP TRIGGER IF EXISTS search_sample_changed ON library_sample;
DROP TRIGGER IF EXISTS search_collection_changed ON library_collection;
DROP TRIGGER IF EXISTS search_items_inserted ON library_collectionitem;
DROP TRIGGER IF EXISTS search_items_deleted ON library_collectionitem;
DROP TRIGGER IF EXISTS search_item_moved ON library_collectionitem;
DROP TRIGGER IF EXISTS search_postings_inserted ON search_sampledocument;
DROP TRIGGER IF EXISTS search_postings_updated ON search_sampledocument;
DROP TRIGGER IF EXISTS search_postings_deleted ON search_sampledocument;
DROP FUNCTION IF EXISTS search_sample_inserted();
DROP FUNCTION IF EXISTS search_sample_changed();
DROP FUNCTION IF EXISTS search_collection_changed();
DROP FUNCTION IF EXISTS search_items_inserted();
DROP FUNCTION IF EXISTS search_items_deleted();
DROP FUNCTION IF EXISTS search_item_moved();
DROP FUNCTION IF EXISTS search_postings_inserted();
DROP FUNCTION IF EXISTS search_postings_updated();
DROP FUNCTION IF EXISTS search_postings_deleted();
DROP FUNCTION IF EXISTS search_refresh(uuid[], boolean);
DROP FUNCTION IF EXISTS search_add_terms(uuid[]);
DROP FUNCTION IF EXISTS search_rows_of(uuid[]);
DROP FUNCTION IF EXISTS search_lexeme_query(text);
DROP FUNCTION IF EXISTS search_plain(text);
DROP FUNCTION IF EXISTS search_normalise(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0010_normalise_splits_camel_case_and_hyphens"),
    ]

    operations = [
        migrations.RunSQL(migrations.RunSQL.noop, BACKEND_OBJECTS),
        migrations.RunSQL(DROP, migrations.RunSQL.noop),
        migrations.DeleteModel(name="PublicDocument"),
    ]
