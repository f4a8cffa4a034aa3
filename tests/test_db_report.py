"""Database health: db_report, slow-query logging and the connection pool."""

from __future__ import annotations

import copy
import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings

from samplemind.ops.db import (
    WORKER_CONN_MAX_AGE,
    SlowQueryLogger,
    disable_pool_in_prefork_worker,
)
from tests.factories import SampleFactory


def report(*args: str) -> str:
    out = StringIO()
    call_command("db_report", *args, stdout=out)
    return out.getvalue()


def section(text: str, title: str) -> str:
    """The lines of one section of the report (up to the next blank line)."""
    return text.split(f"\n{title}", 1)[1].split("\n\n", 1)[0]


@pytest.mark.django_db
def test_report_lists_an_index_nobody_uses_but_not_the_ones_enforcing_rules():
    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX ops_test_unused_idx ON library_sample (description)")
    SampleFactory.create_batch(3)

    text = report("--limit", "50")

    unused = section(text, "Unused indexes")
    assert "ops_test_unused_idx" in unused
    assert "library_sample_pkey" not in unused  # a primary key is never "unused"
    assert "library_sample_unique_content" not in unused
    assert "public.library_sample" in section(text, "Largest tables")
    assert "Most used indexes" in text


@pytest.mark.django_db
def test_report_estimates_the_bloat_left_by_deleted_rows():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE ops_test_bloat (id int, payload text)")
        cursor.execute(
            "INSERT INTO ops_test_bloat SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g"
        )
        cursor.execute("ANALYZE ops_test_bloat")
        before = json.loads(report("--json", "--limit", "500"))
        cursor.execute("DELETE FROM ops_test_bloat WHERE id > 500")
        cursor.execute("ANALYZE ops_test_bloat")
        after = json.loads(report("--json", "--limit", "500"))

    def bloat(data: dict) -> float:
        (row,) = [row for row in data["bloat"] if row["table"] == "public.ops_test_bloat"]
        return row["bloat_pct"]

    assert bloat(before) < 20
    assert bloat(after) > 80


@pytest.mark.django_db
def test_report_says_why_there_are_no_statement_statistics_and_still_succeeds():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
        installed = cursor.fetchone()

    text = report()
    data = json.loads(report("--json"))

    if installed:  # a server configured for it (docker-compose's)
        assert data["statements"]["source"] == "pg_stat_statements"
        assert "Slowest statements (pg_stat_statements" in text
    else:
        assert data["statements"]["source"] == "pg_stat_activity"
        assert "pg_stat_statements is not" in data["statements"]["note"]
        assert "Slowest statements: pg_stat_statements is not" in text
    assert data["overview"]["server_version"].startswith("18")
    assert {"tables", "indexes", "unused_indexes", "bloat"} <= set(data)


@pytest.mark.django_db
def test_slow_statements_are_logged_without_their_parameters(caplog):
    caplog.set_level(logging.WARNING, logger="samplemind.db.slow")
    with override_settings(SLOW_QUERY_MS=30), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.execute("SELECT pg_sleep(0.06), %s::text", ["secret-api-token"])

    (record,) = [r for r in caplog.records if r.name == "samplemind.db.slow"]
    assert record.duration_ms >= 60
    assert "pg_sleep" in record.sql
    assert "secret-api-token" not in record.getMessage()
    assert "secret-api-token" not in record.sql


@pytest.mark.django_db
def test_slow_query_logging_is_off_at_zero(caplog):
    caplog.set_level(logging.WARNING, logger="samplemind.db.slow")
    with override_settings(SLOW_QUERY_MS=0), connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.02)")
    assert not [r for r in caplog.records if r.name == "samplemind.db.slow"]


@pytest.mark.django_db(transaction=True)
def test_the_wrapper_is_installed_once_however_often_a_connection_is_taken():
    for _ in range(5):
        connection.close()
        connection.ensure_connection()
    wrappers = [w for w in connection.execute_wrappers if isinstance(w, SlowQueryLogger)]
    assert len(wrappers) == 1


@pytest.mark.skipif(
    not connection.settings_dict["OPTIONS"].get("pool"), reason="DB_POOL=false in the environment"
)
@pytest.mark.django_db(transaction=True)
def test_the_pool_hands_back_the_same_few_connections():
    pids = set()
    for _ in range(8):
        connection.close()  # returns the connection to the pool
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), current_database()")
            pid, database = cursor.fetchone()
        pids.add(pid)
        assert database == connection.settings_dict["NAME"]

    assert connection.settings_dict["CONN_MAX_AGE"] == 0
    assert len(pids) <= connection.pool.max_size
    assert len(pids) < 8


class FakeWorker:
    def __init__(self, pool_cls: object) -> None:
        self.pool_cls = pool_cls


def test_prefork_workers_run_without_the_pool(settings):
    databases = copy.deepcopy(settings.DATABASES)
    databases["default"]["OPTIONS"]["pool"] = {"min_size": 1}

    disable_pool_in_prefork_worker(sender=FakeWorker("threads"), databases=databases)
    assert "pool" in databases["default"]["OPTIONS"]

    disable_pool_in_prefork_worker(sender=FakeWorker("prefork"), databases=databases)
    assert "pool" not in databases["default"]["OPTIONS"]
    assert databases["default"]["CONN_MAX_AGE"] == WORKER_CONN_MAX_AGE


TIMESTAMPS = [
    "2025-10-27 12:05:37.1234+00",
    "2025-10-27 12:05:37+05:30",
    "2025-03-30 01:30:00-03",
    "1900-01-01 00:00:00+00:19:32",
    "0099-06-01 12:00:00+00",
    None,
]


def _load_timestamps(cursor) -> list:
    cursor.execute(
        "SELECT value::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(value, n)"
        " ORDER BY n",
        [TIMESTAMPS],
    )
    return [value for (value,) in cursor.fetchall()]


@pytest.mark.django_db
def test_timestamps_read_the_fast_way_are_what_djangos_loader_gives():
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    connection.ensure_connection()
    with connection.cursor() as cursor:
        fast = _load_timestamps(cursor)
        loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text
    with connection.connection.cursor() as raw:
        register_tzloader(connection.timezone, raw)  # Django's own loader
        djangos = _load_timestamps(raw)

    assert loader.__name__ == "FastTimestamptzLoader"
    assert fast == djangos
    assert [v and v.utcoffset() for v in fast] == [v and v.utcoffset() for v in djangos]
    assert fast[1].isoformat() == "2025-10-27T06:35:37+00:00"


@pytest.mark.django_db
def test_a_timestamp_fromisoformat_cannot_read_still_fails_as_before():
    with connection.cursor() as cursor, pytest.raises(Exception, match="BC"):
        cursor.execute("SELECT '2000-01-01 00:00:00+00 BC'::timestamptz")
        cursor.fetchall()
