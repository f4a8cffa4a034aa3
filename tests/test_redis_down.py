"""With Redis stopped (cache, broker and results alike), pages and the API keep answering.

Only speed suffers: caches miss, rate limits open, and an upload is stored
``pending``; the re-queue task hands it to a worker once Redis is back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core import mail

from accounts.models import Role, User
from library.models import Sample, SampleStatus
from library.services.analysis import samples_requeue_stuck
from samplemind import embedded
from samplemind.celery import app as celery_app
from samplemind.settings import celery_url
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer, upload_file


@contextmanager
def celery_using(broker: str) -> Iterator[None]:
    """Point this process's Celery client (publishing and results) at ``broker``."""

    def forget_connections() -> None:
        # Only forgotten, not closed: kombu's pool registry hands the same pool out again.
        celery_app._after_fork()  # drops the broker and producer pools
        celery_app._backend_cache = None
        celery_app._local.__dict__.pop("backend", None)

    before = (celery_app.conf.broker_url, celery_app.conf.result_backend)
    forget_connections()
    celery_app.conf.update(broker_url=broker, result_backend=broker)
    try:
        yield
    finally:
        forget_connections()
        celery_app.conf.update(broker_url=before[0], result_backend=before[1])


@pytest.fixture
def private_redis(settings, tmp_path):
    """A Redis of this test's own for the cache, the broker and task results."""
    url = embedded.ensure_redis(tmp_path)
    broker = celery_url(url)
    settings.REDIS_URL = url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = broker
    with celery_using(broker):
        try:
            yield {"url": url, "start": lambda: embedded.ensure_redis(tmp_path)}
        finally:
            embedded.stop_redis(tmp_path)


def stop(private_redis, tmp_path) -> None:
    embedded.stop_redis(tmp_path)
    assert embedded.redis_url(tmp_path) is None


@pytest.mark.django_db
def test_pages_and_api_answer_with_redis_stopped(
    client, private_redis, tmp_path, settings, django_capture_on_commit_callbacks
):
    user = UserFactory(email="offline@example.com", role=Role.PRO)
    kick = SampleFactory(owner=user, name="Kick")
    stop(private_redis, tmp_path)

    home = client.get("/")
    login_page = client.get("/accounts/login/")
    tokens = client.post(
        "/api/v1/auth/login",
        {"email": "offline@example.com", "password": "correct-horse-battery"},
        content_type="application/json",
    )
    api = bearer(user)
    listing = client.get("/api/v1/audio/", **api)
    detail = client.get(f"/api/v1/audio/{kick.pk}", **api)
    found = client.get("/api/v1/search", {"q": "kick"}, **api)
    health = client.get("/api/v1/health")
    ready = client.get("/api/v1/health/ready")
    client.force_login(user)
    library_page = client.get("/library/")
    sample_page = client.get(f"/library/samples/{kick.pk}/")
    search_page = client.get("/search/", {"q": "kick"})

    assert home.status_code == 200
    assert login_page.status_code == 200
    assert tokens.status_code == 200 and "access" in tokens.json()
    assert [row["name"] for row in listing.json()["results"]] == ["Kick"]
    assert detail.status_code == 200 and detail.json()["name"] == "Kick"
    assert [row["name"] for row in found.json()["results"]] == ["Kick"]
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["checks"]["redis"]["ok"] is False
    assert health.json()["checks"]["database"]["ok"] is True
    assert ready.status_code == 503
    assert library_page.status_code == 200 and b"Kick" in library_page.content
    assert sample_page.status_code == 200 and b"Kick" in sample_page.content
    assert search_page.status_code == 200 and b"Kick" in search_page.content


@pytest.mark.django_db
def test_an_upload_with_the_broker_down_is_kept_pending_and_queued_once_it_is_back(
    client, private_redis, tmp_path, settings, django_capture_on_commit_callbacks
):
    user = UserFactory(role=Role.PRO)
    path = audio.write(tmp_path / "k.wav", audio.kick())
    stop(private_redis, tmp_path)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        uploaded = upload_file(client, user, path)
    seconds = time.monotonic() - started

    assert uploaded.status_code == 201, uploaded.content[:300]
    assert uploaded.json()["status"] == "pending"
    assert seconds < 10  # the failed publish gives up quickly instead of hanging the upload

    # Redis is back: the periodic re-queue task hands the sample to the analysis queue.
    private_redis["start"]()
    settings.SAMPLEMIND_ANALYSIS_STALE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        requeued = samples_requeue_stuck()

    assert requeued == 1
    assert Sample.objects.get(pk=uploaded.json()["id"]).status == SampleStatus.PENDING
    with celery_app.connection_for_read() as connection:
        assert connection.default_channel.client.llen("analysis") == 1


@pytest.mark.django_db
def test_sign_in_sign_up_and_reset_pages_work_with_redis_stopped(
    client, private_redis, tmp_path, caplog
):
    """allauth's page limits fail open, as the API's do, and the log says so."""
    user = UserFactory(email="offline@example.com")
    stop(private_redis, tmp_path)

    signed_in = client.post(
        "/accounts/login/", {"login": "offline@example.com", "password": "correct-horse-battery"}
    )
    signed_in_as = client.session.get("_auth_user_id")
    client.logout()
    signed_up = client.post(
        "/accounts/signup/",
        {
            "email": "newcomer@example.com",
            "password1": "a-long-passphrase",
            "password2": "a-long-passphrase",
        },
    )
    client.logout()
    reset = client.post("/accounts/password/reset/", {"email": "offline@example.com"})

    assert signed_in.status_code == 302, signed_in.content[:300]
    assert signed_in_as == str(user.pk)
    assert signed_up.status_code == 302, signed_up.content[:300]
    assert User.objects.filter(email="newcomer@example.com").exists()
    assert reset.status_code == 302 and reset["Location"] == "/accounts/password/reset/done/"
    assert mail.outbox[-1].to == ["offline@example.com"]  # the reset link
    assert "not rate limited: Redis is down" in caplog.text
