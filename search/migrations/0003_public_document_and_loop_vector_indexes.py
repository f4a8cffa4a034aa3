"""Indexes for the hand-written search queries.

- ``search_document_public_gin``, the GIN index on public samples' documents,
  was made here too; its condition names ``Visibility.PUBLIC``, so the backend
  makes it now (``search/backends/postgres/schema.py``, after ``migrate``).
- ``search_sample_embedding_loop_vectors``: the loops' embeddings (with what
  the privacy rule and the tempo filter need) in a B-tree, so that a "sounds
  like this, loops only" query compares with every loop exactly, by an
  index-only scan, instead of walking the loops' HNSW graph: its samples sit in
  a few tight clusters, and a walk from a far query finds under 80% of the
  true nearest.
"""

from django.db import migrations

LOOP_VECTORS = (
    "CREATE INDEX search_sample_embedding_loop_vectors ON library_sample (owner_id)"
    " INCLUDE (visibility, id, bpm, embedding) WHERE is_loop AND embedding IS NOT NULL"
)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_triggers_and_vector_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            LOOP_VECTORS, "DROP INDEX IF EXISTS search_sample_embedding_loop_vectors"
        ),
    ]
