"""Tasks make a real round trip through a separate worker process and Redis."""

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from samplemind.celery import app as celery_app
from samplemind.tasks import HEARTBEAT_KEY, heartbeat, ping

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_answers_a_task_from_the_test_database(celery_worker_process):
    result = ping.delay()

    assert result.get(timeout=30) == {
        "pong": "ok",
        "database": settings.DATABASES["default"]["NAME"],
    }
    assert result.successful()


def test_worker_consumes_the_analysis_queue(celery_worker_process):
    result = ping.apply_async(queue="analysis")

    assert result.get(timeout=30)["pong"] == "ok"


def test_heartbeat_task_is_recorded_for_the_health_check(celery_worker_process):
    heartbeat.delay()

    deadline = time.monotonic() + 30
    while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cache.get(HEARTBEAT_KEY) is not None


def test_task_messages_are_json_only():
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert {queue.name for queue in conf.task_queues} == {"celery", "analysis"}
    assert "worker-heartbeat" in conf.beat_schedule
