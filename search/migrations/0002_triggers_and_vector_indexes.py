"""HNSW indexes (cosine) on the library's embeddings: all samples, loops, one-shots.

One index serves unfiltered and loosely filtered "sounds like" queries; the
partial ones serve the loop and one-shot filters, tied to timbre, inside their
own graphs. pgvector's defaults (m = 16, ef_construction = 64): recall@10
above 0.95 at ef_search 100 on 100,000 samples (benchmarks/bench_search.py).

What follows a Python constant is not here: the search functions and
triggers, and one partial HNSW index per category, are made by the backend
(``search/backends/postgres/schema.py``, run after every ``migrate``). This
migration made them too until 0011; databases migrated before keep them, and
the backend replaces them.
"""

from django.db import migrations

VECTOR_INDEXES = [
    "CREATE INDEX search_sample_embedding ON library_sample"
    " USING hnsw (embedding vector_cosine_ops)",
    "CREATE INDEX search_sample_embedding_loops ON library_sample"
    " USING hnsw (embedding vector_cosine_ops) WHERE is_loop",
    "CREATE INDEX search_sample_embedding_one_shots ON library_sample"
    " USING hnsw (embedding vector_cosine_ops) WHERE NOT is_loop",
]
# The backend's per-category HNSW indexes go with them (found by their condition).
DROP_CATEGORY_INDEXES = """
DO $$
DECLARE found record;
BEGIN
    FOR found IN
        SELECT index.relname FROM pg_index x
        JOIN pg_class index ON index.oid = x.indexrelid
        JOIN pg_am am ON am.oid = index.relam
        WHERE x.indrelid = 'library_sample'::regclass AND am.amname = 'hnsw'
          AND pg_get_expr(x.indpred, x.indrelid) LIKE '%category%'
    LOOP
        EXECUTE format('DROP INDEX %I', found.relname);
    END LOOP;
END
$$
"""
DROP_VECTOR_INDEXES = [
    DROP_CATEGORY_INDEXES,
    "DROP INDEX IF EXISTS search_sample_embedding",
    "DROP INDEX IF EXISTS search_sample_embedding_loops",
    "DROP INDEX IF EXISTS search_sample_embedding_one_shots",
]


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
        ("library", "0002_initial"),
    ]

    operations = [
        migrations.RunSQL(VECTOR_INDEXES, DROP_VECTOR_INDEXES),
    ]
