"""With the cache's Redis stopped, pages and the API keep answering; only speed suffers."""

from __future__ import annotations

import pytest

from accounts.models import Role
from samplemind import embedded
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer, upload_file


@pytest.fixture
def stopped_redis(settings, tmp_path):
    """A private Redis for the cache, sessions' neighbours and rate limits, then stopped.

    The Celery broker stays up here: its outage is the worker's concern, and a
    publish failure is logged and recovered by the re-queue task.
    """
    url = embedded.ensure_redis(tmp_path)
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    embedded.stop_redis(tmp_path)
    assert embedded.redis_url(tmp_path) is None
    yield


@pytest.mark.django_db
def test_pages_and_api_answer_with_redis_stopped(
    client, stopped_redis, tmp_path, django_capture_on_commit_callbacks
):
    user = UserFactory(email="offline@example.com", role=Role.PRO)
    SampleFactory(owner=user, name="Kick")

    home = client.get("/")
    login_page = client.get("/accounts/login/")
    tokens = client.post(
        "/api/v1/auth/login",
        {"email": "offline@example.com", "password": "correct-horse-battery"},
        content_type="application/json",
    )
    listing = client.get("/api/v1/audio/", **bearer(user))
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = upload_file(client, user, audio.write(tmp_path / "k.wav", audio.kick()))
    health = client.get("/api/v1/health")

    assert home.status_code == 200
    assert login_page.status_code == 200
    assert tokens.status_code == 200 and "access" in tokens.json()
    assert [row["name"] for row in listing.json()["results"]] == ["Kick"]
    assert uploaded.status_code == 201  # stored; analysis waits for the broker
    assert uploaded.json()["status"] == "pending"
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["redis"]["ok"] is False
