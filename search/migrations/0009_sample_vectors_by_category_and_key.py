"""Covering B-trees by category and key: exact "sounds like" answers, quick browsing.

``search_sample_embedding_vectors`` holds each analysed sample's embedding,
with what the privacy rule and the common filters read, keyed by (category,
key, mode). A "sounds like this, but snares" or "... in a key that mixes with
A minor" query then compares with every such sample by an index-only scan,
reading a few hundred index pages, where fetching the rows visits a heap
page per sample and a walk of the category's HNSW graph needs a wide
candidate list to find a far query's true nearest.

``search_document_filters`` does the same for browsing by filters and for
facets: the search rows' filter columns, keyed by (category, key, mode), so
that a filtered page and its count are read from the index alone.
"""

from django.db import migrations, models

VECTORS = (
    "CREATE INDEX search_sample_embedding_vectors ON library_sample (category, key, mode)"
    " INCLUDE (owner_id, visibility, id, bpm, is_loop, duration, loudness_lufs, embedding)"
    " WHERE embedding IS NOT NULL"
)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0008_public_posting"),
    ]

    operations = [
        migrations.RunSQL(VECTORS, "DROP INDEX IF EXISTS search_sample_embedding_vectors"),
        migrations.AddIndex(
            model_name="sampledocument",
            index=models.Index(
                fields=["category", "key", "mode"],
                include=[
                    "visibility",
                    "owner",
                    "created_at",
                    "sample",
                    "bpm",
                    "is_loop",
                    "duration",
                    "loudness_lufs",
                ],
                name="search_document_filters",
            ),
        ),
    ]
