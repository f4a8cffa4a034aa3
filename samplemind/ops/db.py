"""Database connections: the connection pool's settings, slow-query logging, timestamps.

Slow queries: every connection gets an execute wrapper (installed from the
``connection_created`` signal) that times each statement and logs those
slower than ``SLOW_QUERY_MS`` on the ``samplemind.db.slow`` logger, with the
SQL text but never its parameters (they may hold passwords or tokens).

Timestamps: Django reads ``timestamptz`` values with a subclass of psycopg's
pure-Python loader, about 10 µs a value, the most expensive column of a page
of samples (three per row). Every connection gets a loader that parses them
with ``datetime.fromisoformat`` (under 1 µs) and otherwise gives what
Django's gives; values it cannot read (BC dates, years past 9999) go the
old way.

Pool: Django's psycopg pool (``OPTIONS["pool"]``) for web processes. In a
Celery prefork worker it is switched off, because Celery's Django fixup closes
the connections, and with them the whole pool, before and after every task.
Instead each pool process keeps one connection across tasks (a new PostgreSQL
session costs about 15 ms, more than analysing a one-shot): the fixup closes
it only every ``CELERY_DB_REUSE_MAX`` tasks, and before each task
``close_old_connections`` drops one that failed or is older than
``WORKER_CONN_MAX_AGE``, as Django does before each request.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from psycopg.types.datetime import TimestamptzLoader

logger = logging.getLogger("samplemind.db.slow")

SQL_LOG_LIMIT = 2000
# Seconds a Celery prefork process keeps its database connection between tasks.
WORKER_CONN_MAX_AGE = 300


def pool_options(env: Any) -> dict[str, Any] | None:
    """The ``OPTIONS["pool"]`` value the environment asks for (``DB_POOL*``), or None."""
    if not env.bool("DB_POOL", default=True):
        return None
    return {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        # How long a request waits for a connection. Gunicorn's sync workers use one at a
        # time, so a wait means PostgreSQL is not answering: the request then gets a 503
        # (samplemind.outage) and the health check says so within its 2 s.
        "timeout": env.float("DB_POOL_TIMEOUT", default=1.0),
        # After this long failing to reconnect (backoff 1, 2, 4 s...) the pool stops, and
        # the next request tries again at once, so the site is back seconds after the
        # database instead of after psycopg_pool's 5-minute backoff.
        "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=5.0),
        "max_idle": env.float("DB_POOL_MAX_IDLE", default=300.0),
    }


class SlowQueryLogger:
    """An execute wrapper that logs statements slower than ``SLOW_QUERY_MS``."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
        threshold = getattr(settings, "SLOW_QUERY_MS", 0)
        if not threshold:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            if elapsed >= threshold:
                statement = str(sql)
                logger.warning(
                    "slow query (%.0f ms): %s",
                    elapsed,
                    statement[:SQL_LOG_LIMIT],
                    extra={
                        "duration_ms": round(elapsed, 1),
                        "sql": statement[:SQL_LOG_LIMIT],
                        "database": self.alias,
                        "executemany": many,
                    },
                )


def install_slow_query_logger(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: add the wrapper once per connection wrapper.

    With a pool the signal fires each time a connection is taken from it, so
    the wrapper is only added when the wrapper object does not have one yet.
    """
    if not any(isinstance(w, SlowQueryLogger) for w in connection.execute_wrappers):
        connection.execute_wrappers.append(SlowQueryLogger(connection.alias))


@functools.cache
def fast_timestamp_loader(timezone: tzinfo | None) -> type[TimestamptzLoader]:
    """A text ``timestamptz`` loader giving what Django's gives for ``timezone``.

    Django's loader takes the value in the session's time zone (which Django
    sets to ``timezone``) and labels it ``timezone``, or drops the zone when
    ``timezone`` is None (``USE_TZ = False``). ``timezone`` is also the class
    attribute Django compares before it would put its own loader back.
    """

    class FastTimestamptzLoader(TimestamptzLoader):
        def load(self, data: Any) -> datetime:
            try:
                value = datetime.fromisoformat(bytes(data).decode())
            except ValueError:
                value = super().load(data)
            if timezone is None:
                return value.replace(tzinfo=None)
            return value.astimezone(timezone)

    FastTimestamptzLoader.timezone = timezone
    return FastTimestamptzLoader


def install_fast_timestamps(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: read this connection's timestamps the fast way."""
    if connection.vendor == "postgresql" and hasattr(connection.connection, "adapters"):
        loader = fast_timestamp_loader(connection.timezone)  # None without USE_TZ
        connection.connection.adapters.register_loader("timestamptz", loader)


def disable_pool_in_prefork_worker(
    sender: Any = None, databases: dict | None = None, **kwargs: Any
) -> None:
    """``worker_init`` receiver: prefork workers keep one connection each, without the pool.

    It runs before the worker forks or connects, and edits the settings'
    database dictionaries in place (the connection handler shares them).
    """
    pool_cls = getattr(sender, "pool_cls", None)
    module = pool_cls if isinstance(pool_cls, str) else getattr(pool_cls, "__module__", "")
    if sender is not None and "prefork" not in str(module):
        return
    for config in (settings.DATABASES if databases is None else databases).values():
        if (config.get("OPTIONS") or {}).pop("pool", None):
            config["CONN_MAX_AGE"] = WORKER_CONN_MAX_AGE


def close_failed_connections(task: Any = None, **kwargs: Any) -> None:
    """``task_prerun`` receiver: drop connections that failed or outlived their age.

    Only in a worker: a task run eagerly shares its caller's connection, perhaps
    inside the caller's transaction."""
    from django.db import close_old_connections

    if task is not None and task.request.is_eager:
        return
    close_old_connections()
