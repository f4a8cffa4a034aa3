"""The PostgreSQL backend: weighted full-text, trigram word matching, HNSW vectors, RRF.

Text searches, filters and facets read ``search_sampledocument``: one narrow
row per sample, kept current by triggers, holding its text and the columns
filters and the privacy rule use. Sound similarity reads the library's
embeddings through HNSW indexes. Only the page's samples are then loaded,
with their owners and highlights, in one more query; a request runs a fixed
number of queries whatever the page size.

- Text (``text.py``): a weighted tsvector, ``websearch_to_tsquery`` (``dark
  pad -noise``, ``"quoted phrases"``) and ``ts_rank``.
- Fuzzy: query words are matched against ``search_searchterm`` (every word of
  every name and tag) by trigram distance on a GiST index, and the query is
  rewritten with the near words: "kik" searches "kick".
- Vectors: ``ORDER BY embedding <=> v LIMIT k`` on HNSW indexes (one for all
  samples, one per category), with pgvector's iterative index scan on so
  that filters do not starve the answer.
- Hybrid: reciprocal rank fusion of the text ranking and the vector ranking.
"""

from search.backends.postgres.backend import PostgresSearchBackend

__all__ = ["PostgresSearchBackend"]
