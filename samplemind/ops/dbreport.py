"""Read-only questions about the database's health, for ``manage.py db_report``.

Every function takes an open DB-API cursor and returns plain rows (dicts), so
the command can print them as tables or as JSON. Usage counters come from
PostgreSQL's statistics views and count from their last reset.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, transaction


def _rows(cursor: Any, query: str, params: list | tuple = ()) -> list[dict[str, Any]]:
    cursor.execute(query, params)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def overview(cursor: Any) -> dict[str, Any]:
    """Server version, database size, buffer cache hit ratio, when statistics were reset."""
    (row,) = _rows(
        cursor,
        """
        SELECT current_database() AS database,
               current_setting('server_version') AS server_version,
               pg_database_size(current_database()) AS size_bytes,
               CASE WHEN blks_hit + blks_read > 0
                    THEN round(100.0 * blks_hit / (blks_hit + blks_read), 2)::float
               END AS cache_hit_pct,
               stats_reset
        FROM pg_stat_database WHERE datname = current_database()
        """,
    )
    return row


def table_sizes(cursor: Any, limit: int) -> list[dict[str, Any]]:
    """The largest tables: total, heap and index size, rows, dead rows, scans."""
    return _rows(
        cursor,
        """
        SELECT n.nspname || '.' || c.relname AS table,
               pg_total_relation_size(c.oid) AS total_bytes,
               pg_relation_size(c.oid) AS heap_bytes,
               pg_indexes_size(c.oid) AS index_bytes,
               GREATEST(c.reltuples, 0)::bigint AS rows_estimate,
               s.n_dead_tup AS dead_rows,
               s.seq_scan, s.idx_scan,
               GREATEST(s.last_vacuum, s.last_autovacuum) AS last_vacuum
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
        WHERE c.relkind IN ('r', 'p', 'm')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
        ORDER BY total_bytes DESC, 1
        LIMIT %s
        """,
        [limit],
    )


def index_usage(cursor: Any, limit: int) -> list[dict[str, Any]]:
    """The most used indexes, with their size and how many rows their scans read."""
    return _rows(
        cursor,
        """
        SELECT s.schemaname || '.' || s.relname AS table, s.indexrelname AS index,
               s.idx_scan AS scans, s.idx_tup_read AS rows_read,
               pg_relation_size(s.indexrelid) AS size_bytes
        FROM pg_stat_user_indexes s
        ORDER BY s.idx_scan DESC, size_bytes DESC
        LIMIT %s
        """,
        [limit],
    )


def unused_indexes(cursor: Any) -> list[dict[str, Any]]:
    """Indexes never scanned that enforce nothing (not primary, unique or a constraint)."""
    return _rows(
        cursor,
        """
        SELECT s.schemaname || '.' || s.relname AS table, s.indexrelname AS index,
               pg_relation_size(s.indexrelid) AS size_bytes,
               pg_get_indexdef(s.indexrelid) AS definition
        FROM pg_stat_user_indexes s
        JOIN pg_index i ON i.indexrelid = s.indexrelid
        WHERE s.idx_scan = 0
          AND NOT i.indisunique AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
        ORDER BY size_bytes DESC, 1, 2
        """,
    )


def table_bloat(cursor: Any, limit: int) -> list[dict[str, Any]]:
    """Estimated wasted space per table, from the planner's statistics.

    Expected pages = rows / (rows per page), where a row is the tuple header
    plus the columns' average width (``pg_stats``) and its line pointer, and a
    page keeps ``fillfactor`` percent free of its block. Tables never analysed
    have no estimate (``bloat_pct`` null).
    """
    return _rows(
        cursor,
        """
        WITH t AS (
            SELECT c.oid, n.nspname, c.relname, c.reltuples, c.relpages,
                   current_setting('block_size')::numeric AS bs,
                   COALESCE((SELECT substring(o FROM 'fillfactor=(\\d+)')::numeric
                             FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%%'), 100) AS ff,
                   (SELECT sum((1 - s.null_frac) * s.avg_width) FROM pg_stats s
                    WHERE s.schemaname = n.nspname AND s.tablename = c.relname) AS width
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname !~ '^pg_'
        ), e AS (
            SELECT *, CASE WHEN reltuples >= 0 AND width IS NOT NULL THEN
                   ceil(reltuples / GREATEST(floor((bs - 24) * ff / 100
                        / (24 + 4 + ceil(width / 8) * 8)), 1)) END AS expected_pages
            FROM t
        )
        SELECT nspname || '.' || relname AS table,
               relpages * bs AS actual_bytes,
               GREATEST(relpages - expected_pages, 0) * bs AS bloat_bytes,
               CASE WHEN relpages > 0 AND expected_pages IS NOT NULL THEN
                    round(100 * GREATEST(relpages - expected_pages, 0)::numeric / relpages,
                          1)::float END
                    AS bloat_pct
        FROM e
        ORDER BY bloat_bytes DESC NULLS LAST, actual_bytes DESC
        LIMIT %s
        """,
        [limit],
    )


def slowest_statements(cursor: Any, limit: int) -> dict[str, Any]:
    """The statements with the highest mean time, from ``pg_stat_statements`` if possible.

    Returns ``{"source": "pg_stat_statements", "rows": [...]}``, or, when the
    extension is not available, ``{"source": "pg_stat_activity", "note": why,
    "rows": [...]}`` with the statements running longest right now.
    """
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
    if cursor.fetchone():
        try:
            with transaction.atomic():  # a savepoint: the query may fail, the report goes on
                rows = _rows(
                    cursor,
                    """
                    SELECT round(mean_exec_time::numeric, 2) AS mean_ms,
                           round(max_exec_time::numeric, 2) AS max_ms,
                           calls, round(total_exec_time::numeric, 0) AS total_ms, rows,
                           left(regexp_replace(query, '\\s+', ' ', 'g'), 300) AS query
                    FROM pg_stat_statements
                    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                    ORDER BY mean_exec_time DESC
                    LIMIT %s
                    """,
                    [limit],
                )
            return {"source": "pg_stat_statements", "rows": rows}
        except DatabaseError as exc:
            note = f"pg_stat_statements is installed but cannot be read: {str(exc).strip()}"
    else:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'")
        if cursor.fetchone():
            note = (
                "pg_stat_statements is not enabled: add it to shared_preload_libraries, "
                "restart PostgreSQL and run CREATE EXTENSION pg_stat_statements"
            )
        else:
            note = "pg_stat_statements is not available on this server"
    rows = _rows(
        cursor,
        """
        SELECT round(extract(epoch FROM now() - query_start)::numeric * 1000, 0) AS running_ms,
               state, left(regexp_replace(query, '\\s+', ' ', 'g'), 300) AS query
        FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND state <> 'idle' AND query_start IS NOT NULL
        ORDER BY query_start
        LIMIT %s
        """,
        [limit],
    )
    return {"source": "pg_stat_activity", "note": note, "rows": rows}


def report(cursor: Any, *, limit: int = 10) -> dict[str, Any]:
    """Everything ``db_report`` prints."""
    return {
        "overview": overview(cursor),
        "tables": table_sizes(cursor, limit),
        "indexes": index_usage(cursor, limit),
        "unused_indexes": unused_indexes(cursor),
        "bloat": table_bloat(cursor, limit),
        "statements": slowest_statements(cursor, limit),
    }
