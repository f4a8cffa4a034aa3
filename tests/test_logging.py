"""Structured logs: a request id on every line of a request and of the tasks it starts."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.http import JsonResponse
from django.urls import path

from samplemind.ops.logs import JsonFormatter, RequestIdFilter, request_id_var
from samplemind.tasks import ping
from tests.conftest import database_url

probe_logger = logging.getLogger("tests.probe")


def probe(request):
    """Logs a line and starts a task, as a real view would."""
    probe_logger.warning("probe view ran", extra={"colour": "green"})
    result = ping.delay()
    return JsonResponse({"task_id": result.id})


urlpatterns = [path("probe/", probe)]


@pytest.fixture
def log_lines():
    """Lines the root logger writes as JSON through the project's filter and formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


@pytest.mark.urls("tests.test_logging")
@pytest.mark.django_db
def test_lines_logged_during_a_request_carry_its_id(client, log_lines):
    response = client.get("/probe/", HTTP_X_REQUEST_ID="req-abc-123")
    probe_logger.warning("after the request")

    assert response["X-Request-ID"] == "req-abc-123"
    lines = {line["message"]: line for line in log_lines()}
    inside = lines["probe view ran"]
    assert inside["request_id"] == "req-abc-123"
    assert inside["colour"] == "green"
    assert inside["level"] == "WARNING"
    assert inside["logger"] == "tests.probe"
    assert "request_id" not in lines["after the request"]


@pytest.mark.django_db
def test_djangos_line_for_a_4xx_response_carries_the_request_id(client, log_lines):
    response = client.get("/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID="req-not-found")
    probe_logger.warning("after the 404")

    assert response.status_code == 404
    lines = {line["message"]: line for line in log_lines()}
    not_found = lines["Not Found: /api/v1/no-such-endpoint"]
    assert not_found["logger"] == "django.request"
    assert not_found["request_id"] == "req-not-found"
    assert "request_id" not in lines["after the 404"]


@pytest.mark.django_db
def test_a_request_without_a_usable_id_gets_a_fresh_one(client):
    plain = client.get("/")
    hostile = client.get("/", HTTP_X_REQUEST_ID='x" injected=1\n{"level": "ERROR"}')
    other = client.get("/")

    for response in (plain, hostile, other):
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert plain["X-Request-ID"] != other["X-Request-ID"]


def test_json_lines_hold_exceptions_and_odd_extras(log_lines):
    try:
        raise ValueError("bad things")
    except ValueError:
        probe_logger.exception("it broke", extra={"when": object(), "ids": (1, 2)})

    lines = [line for line in log_lines() if line["message"] == "it broke"]
    # Says why when another test has left logging switched off.
    parent = logging.getLogger("tests")
    state = (probe_logger.disabled, logging.root.manager.disable, parent.disabled)
    assert len(lines) == 1, f"logger disabled, logging.disable level, parent disabled: {state}"
    (line,) = lines
    assert line["level"] == "ERROR"
    assert "ValueError: bad things" in line["exception"]
    assert line["ids"] == [1, 2]
    assert line["when"].startswith("<object object")
    assert line["time"].endswith("+00:00")


@pytest.mark.worker
@pytest.mark.urls("tests.test_logging")
@pytest.mark.django_db(transaction=True)
def test_a_task_started_by_a_request_logs_with_the_request_id(client, celery_worker_process):
    response = client.get("/probe/", HTTP_X_REQUEST_ID="req-into-the-worker")
    task_id = response.json()["task_id"]

    log = celery_worker_process["log"]
    deadline = time.monotonic() + 30
    lines: list[dict] = []
    while time.monotonic() < deadline:
        lines = [
            json.loads(line)
            for line in log.read_text().splitlines()
            if line.startswith("{") and task_id in line
        ]
        if any("succeeded" in line["message"] for line in lines):
            break
        time.sleep(0.1)
    (done,) = [line for line in lines if "succeeded" in line["message"]]
    assert done["request_id"] == "req-into-the-worker"
    assert done["task_id"] == task_id
    assert done["task_name"] == "samplemind.ping"


@pytest.mark.django_db
def test_an_eager_task_keeps_the_callers_request_id(log_lines):
    token = request_id_var.set("req-eager")
    try:
        result = ping.apply()
        probe_logger.warning("back in the request")
    finally:
        request_id_var.reset(token)

    assert result.get()["pong"] == "ok"
    (line,) = [line for line in log_lines() if line["message"] == "back in the request"]
    assert line["request_id"] == "req-eager"


def run_shell(**env: str) -> subprocess.CompletedProcess:
    code = "import logging; logging.getLogger('probe').warning('hello', extra={'n': 1})"
    environ = {
        **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "LOG_FORMAT")},
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
        "REDIS_URL": settings.REDIS_URL,
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_logs_are_json_and_development_logs_are_plain():
    production = run_shell(DEBUG="false")
    development = run_shell(DEBUG="true")

    (line,) = [json.loads(out) for out in production.stderr.splitlines() if "hello" in out]
    assert line["message"] == "hello"
    assert line["n"] == 1
    assert line["logger"] == "probe"
    (text,) = [out for out in development.stderr.splitlines() if "hello" in out]
    assert re.search(r" WARNING probe \[-\] hello$", text)
