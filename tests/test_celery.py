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


def test_a_killed_workers_tasks_come_back_within_two_minutes_and_never_twice_at_once():
    """The rule beside SAMPLEMIND_VISIBILITY_TIMEOUT, for every task the workers run."""
    conf = celery_app.conf
    visibility = conf.broker_transport_options["visibility_timeout"]
    # Tasks a second copy of which finds the first one's lock and does nothing.
    guarded = {"library.analyze_sample", "library.analyze_samples"}
    celery_app.loader.import_default_modules()
    celery_app.autodiscover_tasks(force=True)  # every app's tasks module, as workers load them
    assert visibility <= 120
    for name in guarded:
        assert settings.SAMPLEMIND_ANALYSIS_STALE_SECONDS > celery_app.tasks[name].time_limit

    checked = 0
    for name, task in celery_app.tasks.items():
        if name.startswith("celery."):
            continue
        checked += 1
        if getattr(task, "autoretry_for", ()):
            assert task.retry_backoff_max < visibility, f"{name}: a retry would wait unacknowledged"
        time_limit = task.time_limit or conf.task_time_limit
        acks_late = conf.task_acks_late if task.acks_late is None else task.acks_late
        if acks_late and time_limit >= visibility:
            assert name in guarded, f"{name} may run past the visibility timeout twice at once"
    assert checked >= 8
