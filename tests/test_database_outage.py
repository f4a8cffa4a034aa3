"""A database that does not answer: quick 503s, never a hang; analysis waits it out.

The default connection is pointed at a local port with the settings' own
pool and timeouts, and the real psycopg and psycopg_pool meet either nothing
listening (a stopped server) or a server that accepts and then never answers
(a hung one).
"""

import socket
import time
from collections.abc import Iterator

import pytest
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import connections

from library.tasks import analyze_sample
from tests.factories import UserFactory

HEALTH = "/api/v1/health"


@pytest.fixture
def stopped_server() -> Iterator[int]:
    """A port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


@pytest.fixture
def hung_server() -> Iterator[int]:
    """A port whose listener never accepts or answers: libpq waits for its reply."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture(params=["stopped_server", "hung_server"])
def database_down(request) -> Iterator[None]:
    """Every query through the default connection goes to a server that does not answer."""
    port = request.getfixturevalue(request.param)
    live = connections["default"]
    config = {**live.settings_dict, "HOST": "127.0.0.1", "PORT": str(port)}
    config["OPTIONS"] = {**settings.DATABASES["default"]["OPTIONS"]}
    # Its own alias keys its own psycopg pool; the ORM still asks for "default".
    dead = type(live)(config, alias=f"unreachable-{port}")
    connections["default"] = dead
    try:
        yield
    finally:
        connections["default"] = live
        dead.close()
        if dead.pool is not None:
            dead.close_pool()


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.django_db
def test_health_answers_503_within_two_seconds(client, database_down):
    response, seconds = timed(client.get, HEALTH)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["pgvector"]["error"].startswith("skipped")
    assert body["checks"]["redis"]["ok"] is True  # the rest is still reported
    assert seconds < 2.0


@pytest.fixture
def member_client(client, db):
    """A signed-in client; its session was stored before the outage."""
    client.force_login(UserFactory())
    return client


def test_a_page_answers_503_with_a_clear_page(member_client, database_down):
    response, seconds = timed(member_client.get, "/library/?q=kick")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "temporarily unavailable" in page
    assert 'href="/library/?q=kick"' in page
    assert seconds < 3.0


@pytest.mark.django_db
def test_the_api_answers_503_in_the_shared_error_shape(client, database_down):
    credentials = {"email": "someone@example.com", "password": "a long passphrase"}

    response, seconds = timed(
        client.post, "/api/v1/auth/login", credentials, content_type="application/json"
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    error = response.json()["error"]
    assert error["code"] == "database_unavailable"
    assert error["message"]
    assert error["details"] == {"retry_after": 30}
    assert seconds < 3.0


def test_analysis_retries_ride_out_minutes_of_outage():
    task = analyze_sample
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    # The countdowns Celery's autoretry computes for this task, one per retry.
    countdowns = [
        get_exponential_backoff_interval(
            factor=task.retry_backoff,
            retries=retry,
            maximum=task.retry_backoff_max,
            full_jitter=task.retry_jitter,
        )
        for retry in range(task.max_retries)
    ]

    assert sum(countdowns) >= 5 * 60  # a few minutes of outage, beat not needed
    assert min(countdowns) >= 5  # a flapping database is not hammered
    assert max(countdowns) <= 90 < visibility  # a waiting retry is not handed out twice
