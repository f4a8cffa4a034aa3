"""A GIN index on what a sample's owner searches: its document and its private collections' names.

A text search finds the caller's own matches through it and the owner index
together (a BitmapAnd), instead of reading every one of the caller's rows to
test them.
"""

from django.db import migrations

OWN_DOCUMENT = (
    "CREATE INDEX search_document_own_gin ON search_sampledocument"
    " USING gin ((document || coalesce(private_document, ''::tsvector)))"
)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0003_public_document_and_loop_vector_indexes"),
    ]

    operations = [
        migrations.RunSQL(OWN_DOCUMENT, "DROP INDEX IF EXISTS search_document_own_gin"),
    ]
