"""Hybrid search: the text ranking and the vector ranking fused by reciprocal rank fusion.

One statement ranks both, fuses them (RRF, in SQL), pages, and loads the
page's samples with their owners and highlights.
"""

from __future__ import annotations

from psycopg import sql

from search.backends.postgres.common import SAMPLE_JOIN, sample_columns
from search.backends.postgres.text import Ranked, TextQuery, highlights

_NO_TEXT = sql.SQL(
    "SELECT NULL::uuid AS sample_id, NULL::real AS rank, NULL::bigint AS position WHERE false"
)
# In double precision, as Python adds the parts, so the order matches the scores shown.
_SCORE = sql.SQL(
    "coalesce(1.0::float8 / (%(rrf)s::float8 + t.position), 0)"
    " + coalesce(1.0::float8 / (%(rrf)s::float8 + v.position), 0)"
)


def hybrid_statement(
    query: TextQuery | None, ranked: Ranked | None, knn: sql.Composable
) -> tuple[sql.Composable, dict]:
    """Rows ``(text matches, total, rank, text_position, distance, vector_position,
    sample columns..., [name and description highlights])``; always one row at least.

    ``%(k)s`` candidates of each ranking are fused; ``%(last)s`` false skips
    the vector walk when the words find nothing (near spellings come next).
    """
    params: dict = {}
    ctes: list[sql.Composable] = []
    columns = [sample_columns()]
    if query is not None and ranked is not None:
        ctes = list(ranked.ctes)
        # The best candidates first (a top-N sort), then numbered.
        text_ranked = sql.SQL(
            "SELECT sample_id, rank, row_number() OVER"
            " (ORDER BY rank DESC, created_at DESC, sample_id) AS position"
            " FROM (SELECT * FROM ({}) ranked"
            " ORDER BY rank DESC, created_at DESC, sample_id LIMIT %(k)s) best"
        ).format(ranked.rows)
        marked, params = highlights(query)
        columns.append(marked)
    else:
        text_ranked = _NO_TEXT
    ctes += [
        sql.SQL("text_ranked AS ({})").format(text_ranked),
        # Not walked at all when the words find nothing and near spellings come next.
        sql.SQL(
            "knn AS (SELECT * FROM ({}) nearest"
            " WHERE %(last)s OR EXISTS (SELECT 1 FROM text_ranked))"
        ).format(knn),
        sql.SQL(
            "vector_ranked AS (SELECT sample_id, distance,"
            " row_number() OVER (ORDER BY distance, sample_id) AS position FROM knn)"
        ),
        sql.SQL(
            "fused AS (SELECT coalesce(t.sample_id, v.sample_id) AS sample_id,"
            " t.rank, t.position AS text_position, v.distance, v.position AS vector_position,"
            " {} AS score"
            " FROM text_ranked t FULL JOIN vector_ranked v ON v.sample_id = t.sample_id)"
        ).format(_SCORE),
        sql.SQL(
            "page AS (SELECT * FROM fused"
            " ORDER BY score DESC, vector_position NULLS LAST, sample_id"
            " LIMIT %(limit)s OFFSET %(offset)s)"
        ),
    ]
    statement = sql.SQL(
        "WITH {ctes}"
        " SELECT found.n, found.total, page.rank, page.text_position, page.distance,"
        " page.vector_position, {columns}"
        " FROM (SELECT (SELECT count(*) FROM text_ranked) AS n,"
        " (SELECT count(*) FROM fused) AS total) found LEFT JOIN page ON true{join}"
        " ORDER BY page.score DESC, page.vector_position NULLS LAST, page.sample_id"
    ).format(ctes=sql.SQL(", ").join(ctes), columns=sql.SQL(", ").join(columns), join=SAMPLE_JOIN)
    return statement, params
