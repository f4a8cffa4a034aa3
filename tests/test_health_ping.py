"""Readiness rides out one slow Celery ping."""

import pytest

from samplemind import health

PONG = [{"celery@worker": {"ok": "pong"}}]


def test_a_worker_that_misses_one_ping_still_counts(monkeypatch):
    replies = iter([PONG, []])
    monkeypatch.setattr(health.celery_app.control, "ping", lambda timeout: next(replies))

    first, second = health.check_celery(), health.check_celery()

    assert first["ok"] and first["workers"] == ["celery@worker"]
    assert second["ok"] and second["workers"] == ["celery@worker"]
    assert second["answered"] is False


def test_no_worker_that_ever_answered_is_not_ready(monkeypatch):
    monkeypatch.setattr(health.celery_app.control, "ping", lambda timeout: [])

    assert health.check_celery()["ok"] is False


@pytest.mark.django_db
def test_readiness_stays_up_through_one_slow_ping(client, monkeypatch):
    replies = iter([PONG, []])
    monkeypatch.setattr(health.celery_app.control, "ping", lambda timeout: next(replies))
    monkeypatch.setitem(health.READY_CHECKS, "queues", lambda: {"ok": True})

    statuses = [client.get("/api/v1/health/ready").status_code for _ in range(2)]

    assert statuses == [200, 200]
