"""The backend owns what follows Python constants; the narrow table of public rows goes.

Search's functions, triggers, ranked postings' ranks and per-category vector
indexes are made by the backend from the Python definitions they depend on
(``search/backends/postgres/schema.py``, run after every ``migrate``), no
longer by migrations 0002-0010. Here the objects only those migrations made
are dropped: ``search_publicdocument`` with the triggers that kept it and the
ones that wrote postings from it (the backend writes postings from
``search_sampledocument``). Nothing here names a category, a weight or a
visibility.
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


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0010_normalise_splits_camel_case_and_hyphens"),
    ]

    operations = [
        migrations.RunSQL(DROP, migrations.RunSQL.noop),
        migrations.DeleteModel(name="PublicDocument"),
    ]
