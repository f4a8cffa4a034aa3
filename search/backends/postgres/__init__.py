"""The PostgreSQL backend: weighted full-text, trigram word matching, HNSW vectors, RRF.

Text searches, filters and facets read ``search_sampledocument``: one narrow
row per sample, kept current by triggers, holding its text and the columns
filters and the privacy rule use. Sound similarity reads the library's
embeddings through HNSW indexes. A search, a "sounds like" query and a hybrid
search are each one statement that ranks, counts, and loads the page's samples
with their owners and highlights; a request runs a fixed number of queries
whatever the page size. Statements are composed with ``psycopg.sql`` (every
value a parameter) in modules by concern: ``common`` (running, privacy,
filters, loading), ``words``, ``text``, ``browse``, ``vectors``, ``hybrid``,
``facets``; ``manage.py search_sql`` prints the finished statements of a search.
``schema`` makes the functions, triggers and per-category indexes the index
needs from the Python definitions they follow (``setup()``, after ``migrate``).

- Text (``text``): a weighted tsvector, ``websearch_to_tsquery`` (``dark
  pad -noise``, ``"quoted phrases"``) and ``ts_rank``. Other people's matches
  come from a GIN index on public documents (for one word and nothing else,
  from its ranked postings), the caller's own from one on the (owner, words)
  pairs, so the privacy rule costs no extra rows.
- Fuzzy: query words are matched against ``search_searchterm`` (every word of
  every name and tag) by trigram distance on a GiST index, and the query is
  rewritten with the near words: "kik" searches "kick". A word is offered only
  when a sample the caller can see has it: its public witness, checked at
  use, or else a search of its matches.
- Vectors: ``ORDER BY embedding <=> v LIMIT k`` on HNSW indexes (one for all
  samples, one per category), with pgvector's iterative index scan on so
  that filters do not starve the answer; settings travel in the query's
  round trip. Loops and filters that leave few samples are compared exactly.
- Hybrid: reciprocal rank fusion of the text ranking and the vector ranking,
  in SQL.
"""

from search.backends.postgres.backend import PostgresSearchBackend

__all__ = ["PostgresSearchBackend"]
