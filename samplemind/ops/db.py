"""Database connections: the connection pool's settings and slow-query logging.

Slow queries: every connection gets an execute wrapper (installed from the
``connection_created`` signal) that times each statement and logs those
slower than ``SLOW_QUERY_MS`` on the ``samplemind.db.slow`` logger, with the
SQL text but never its parameters (they may hold passwords or tokens).

Pool: Django's psycopg pool (``OPTIONS["pool"]``) for web processes. In a
Celery prefork worker it is switched off, because Celery's Django fixup closes
the connections, and with them the whole pool, before and after every task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

logger = logging.getLogger("samplemind.db.slow")

SQL_LOG_LIMIT = 2000


def pool_options(env: Any) -> dict[str, Any] | None:
    """The ``OPTIONS["pool"]`` value the environment asks for (``DB_POOL*``), or None."""
    if not env.bool("DB_POOL", default=True):
        return None
    return {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        # Waiting longer than this for a free connection is an error, not a hang.
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
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


def disable_pool_in_prefork_worker(
    sender: Any = None, databases: dict | None = None, **kwargs: Any
) -> None:
    """``worker_init`` receiver: prefork workers connect per task, without the pool.

    It runs before the worker forks or connects, and edits the settings'
    database dictionaries in place (the connection handler shares them).
    """
    pool_cls = getattr(sender, "pool_cls", None)
    module = pool_cls if isinstance(pool_cls, str) else getattr(pool_cls, "__module__", "")
    if sender is not None and "prefork" not in str(module):
        return
    for config in (settings.DATABASES if databases is None else databases).values():
        if (config.get("OPTIONS") or {}).pop("pool", None):
            config["CONN_MAX_AGE"] = 0
