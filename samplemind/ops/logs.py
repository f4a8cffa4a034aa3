"""Structured logs with a request id on every line of a request and of its tasks.

- :class:`RequestIdMiddleware` takes the caller's ``X-Request-ID`` (when it
  looks like an id) or makes one, keeps it in a context variable until the
  response is closed (Django logs 4xx/5xx responses after the middleware has
  returned), and sends it back in the response header.
- :class:`RequestIdFilter`, on the log handlers, copies the ids onto every
  record (``request_id``, ``task_id``, ``task_name``; ``-`` when there is none).
- :class:`JsonFormatter` writes one JSON object per line (``LOG_FORMAT=json``).
- Celery: ``before_task_publish`` puts the current request id in the task's
  headers; ``task_prerun`` restores it in the worker, so the task's lines (and
  tasks it enqueues in turn) carry the id of the request that started it.

Nothing here touches settings or models at import time: ``LOGGING`` refers to
this module, and the Celery app imports it before Django is set up.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from django.utils.functional import LazyObject, empty

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)
task_name_var: ContextVar[str | None] = ContextVar("task_name", default=None)

_ID_VARS = {"request_id": request_id_var, "task_id": task_id_var, "task_name": task_name_var}

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
# Ids from outside are echoed into logs and headers: printable, short, no spaces.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

request_logger = logging.getLogger("samplemind.request")


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str | None:
    """``value`` when it is acceptable as a request id, else None."""
    return value if value and _VALID_ID.match(value) else None


# --------------------------------------------------------------------------- logging


class RequestIdFilter(logging.Filter):
    """Adds ``request_id``, ``task_id`` and ``task_name`` to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or "-"
        if getattr(record, "task_id", None) is None:
            record.task_id = task_id_var.get() or "-"
        if getattr(record, "task_name", None) is None:
            record.task_name = task_name_var.get() or "-"
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "task_id",
    "task_name",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if hasattr(value, "method") and hasattr(value, "get_full_path"):  # an HttpRequest
        return f"{value.method} {value.get_full_path()}"
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, var in _ID_VARS.items():
            # Without the filter (a handler configured elsewhere), read the context directly.
            value = getattr(record, key, None) or var.get()
            if value and value != "-":
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = _jsonable(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        entry["process"] = record.process
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(*, fmt: str, level: str, log_requests: bool) -> dict[str, Any]:
    """The ``LOGGING`` dictionary: one console handler, plain or JSON, with the ids."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"ids": {"()": "samplemind.ops.logs.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "samplemind.ops.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if fmt == "json" else "plain",
                "filters": ["ids"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "samplemind.request": {"level": "INFO" if log_requests else "WARNING"},
        },
    }


# --------------------------------------------------------------------------- requests


class RequestIdMiddleware:
    """Gives each request an id (``X-Request-ID``) and, optionally, logs one line for it.

    Put it first in ``MIDDLEWARE`` so every other middleware's lines carry the id.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        # Django logs 4xx/5xx responses ("Not Found: /x") after the middleware chain has
        # returned, so the id is cleared when the response is closed, not on the way out.
        from django.core.signals import request_finished

        request_finished.connect(clear_request_id, dispatch_uid="sm-request-id-clear")

    def __call__(self, request: Any) -> Any:
        request_id = clean_request_id(request.headers.get(HEADER)) or new_request_id()
        request.request_id = request_id
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request_id
        if request_logger.isEnabledFor(logging.INFO):
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            request_logger.info(
                "%s %s %s %.0f ms",
                request.method,
                request.path,
                response.status_code,
                elapsed,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": elapsed,
                    "user_id": loaded_user_id(request),
                },
            )
        return response


def loaded_user_id(request: Any) -> int | None:
    """The user's id if the request already looked them up; logging never queries for it.

    A view that failed because the database does not answer left ``request.user``
    unloaded; loading it here would wait for the database again.
    """
    user = getattr(request, "user", None)
    if isinstance(user, LazyObject) and user._wrapped is empty:
        return None
    return getattr(user, "pk", None)


def clear_request_id(**kwargs: Any) -> None:
    """``request_finished``: lines logged between requests carry no id."""
    request_id_var.set(None)


# --------------------------------------------------------------------------- Celery

_task_tokens: dict[str, tuple[Token, Token, Token]] = {}


def on_before_task_publish(headers: dict | None = None, **kwargs: Any) -> None:
    """Put the current request id in an outgoing task's headers."""
    request_id = request_id_var.get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def on_task_prerun(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """Restore the request id a task was sent with (an eager task keeps the caller's)."""
    request = getattr(task, "request", None)
    request_id = clean_request_id(
        getattr(request, TASK_HEADER, None)
        or (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    )
    if task_id:
        _task_tokens[task_id] = (
            request_id_var.set(request_id or request_id_var.get()),
            task_id_var.set(task_id),
            task_name_var.set(getattr(task, "name", None)),
        )


def on_task_postrun(task_id: str | None = None, **kwargs: Any) -> None:
    tokens = _task_tokens.pop(task_id, None) if task_id else None
    if tokens:
        for var, token in zip((request_id_var, task_id_var, task_name_var), tokens, strict=True):
            try:
                var.reset(token)
            except ValueError:  # set in another context (should not happen); clear instead
                var.set(None)


def on_setup_logging(loglevel: int | str | None = None, **kwargs: Any) -> None:
    """Celery's ``setup_logging``: use Django's ``LOGGING`` instead of Celery's own format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        root = logging.getLogger()
        level = logging.getLevelName(loglevel) if isinstance(loglevel, str) else loglevel
        if isinstance(level, int) and level < root.level:
            root.setLevel(level)


def connect_celery_signals() -> None:
    """Connect the receivers above (idempotent: Celery deduplicates by ``dispatch_uid``)."""
    from celery import signals

    from samplemind.ops.db import close_failed_connections, disable_pool_in_prefork_worker

    signals.before_task_publish.connect(on_before_task_publish, dispatch_uid="sm-request-id-pub")
    signals.task_prerun.connect(on_task_prerun, dispatch_uid="sm-request-id-prerun")
    signals.task_postrun.connect(on_task_postrun, dispatch_uid="sm-request-id-postrun")
    signals.setup_logging.connect(on_setup_logging, dispatch_uid="sm-setup-logging")
    signals.worker_init.connect(disable_pool_in_prefork_worker, dispatch_uid="sm-db-pool")
    signals.task_prerun.connect(close_failed_connections, dispatch_uid="sm-db-close-failed")
