"""The caller's own text matches from one GIN index over their words and owner together.

Migration 0004's index held the words only: a caller's own matches were its
matches among everybody's samples, ANDed with the owner index, so a common
word cost a scan of its whole posting list (1-2 ms at 100,000 samples,
whatever the caller owns). With the owner in the same GIN index (as a
one-element array: ``btree_gin`` is not available everywhere) the index
intersects the two posting lists itself, skipping through the longer one.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX search_document_owner_words ON search_sampledocument"
    " USING gin ((document || coalesce(private_document, ''::tsvector)), (ARRAY[owner_id]))"
)
OLD = (
    "CREATE INDEX search_document_own_gin ON search_sampledocument"
    " USING gin ((document || coalesce(private_document, ''::tsvector)))"
)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0005_searchterm_witness"),
    ]

    operations = [
        migrations.RunSQL(
            [CREATE, "DROP INDEX IF EXISTS search_document_own_gin"],
            [OLD, "DROP INDEX IF EXISTS search_document_owner_words"],
        ),
    ]
