"""Shared fixtures: real PostgreSQL, real Redis, and a real Celery worker process.

Tests run against the same servers as development but never touch its data:
pytest-django creates ``test_samplemind`` on the PostgreSQL server, Redis
database 15 holds the tests' cache, broker and results, and media go to a
temporary folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.test.utils import override_settings

from samplemind.celery import app as celery_app
from samplemind.embedded import database_url, redis_url_with_db  # noqa: F401 - tests import them from here
from samplemind.settings import BASE_DIR, celery_url

# Two test runs at once (two people, or two terminals) each need their own test
# database and Redis database: SAMPLEMIND_TEST_RUN=name, SAMPLEMIND_TEST_REDIS_DB=N.
TEST_RUN = os.environ.get("SAMPLEMIND_TEST_RUN", "")
TEST_REDIS_DB = int(os.environ.get("SAMPLEMIND_TEST_REDIS_DB", "15"))


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    if TEST_RUN:
        test = settings.DATABASES["default"].setdefault("TEST", {})
        test["NAME"] = f"test_{settings.DATABASES['default']['NAME']}_{TEST_RUN}"


@pytest.fixture(scope="session", autouse=True)
def test_services(tmp_path_factory: pytest.TempPathFactory):
    """Point cache, broker and media at the tests' own Redis database and folder."""
    url = redis_url_with_db(settings.REDIS_URL, TEST_REDIS_DB)
    broker = celery_url(url)
    media = tmp_path_factory.mktemp("media")
    backup_root = tmp_path_factory.mktemp("backup-storage")
    caches = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    with override_settings(
        REDIS_URL=url,
        CACHES=caches,
        CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND=broker,
        MEDIA_ROOT=str(media),
        STORAGES=backup_storage_at(backup_root),
        # Real hashing costs ~100 ms per password; the tests create hundreds of accounts.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        celery_app.conf.update(broker_url=broker, result_backend=broker)
        redis.Redis.from_url(url).flushdb()
        yield {
            "redis_url": url,
            "broker_url": broker,
            "media_root": media,
            "backup_root": backup_root,
        }


def backup_storage_at(folder: Path) -> dict:
    """STORAGES with the backups (never the media) kept in ``folder``."""
    backups = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(folder), "base_url": None},
    }
    return {**settings.STORAGES, "backups": backups}


@pytest.fixture(autouse=True)
def _clear_cache(test_services):
    # Only the cache's own keys: FLUSHDB would also drop kombu's queue bindings,
    # and a worker started earlier would then silently miss new tasks.
    from django.core.cache import cache

    cache.delete_pattern("*")


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest):
    """pytest-django's live server, serving the site as production does: no media folder.

    Django's ``LiveServerThread`` wraps the site in a handler that serves
    ``MEDIA_ROOT`` at ``MEDIA_URL``. The site has no media URL (``MEDIA_URL`` is
    None, so storages refuse to build one, and that handler fails on every
    request); originals and previews leave only through the views that check who
    asks. Static files are served as pytest-django serves them.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    # The thread passes the site wrapped in its media handler; serve the site itself.
    server.thread.static_handler = lambda media_handler: StaticFilesHandler(
        media_handler.application
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, test_services, tmp_path_factory):
    """A real ``celery worker`` process on the test database, Redis database and media folder.

    Tests that use it need ``transactional_db`` so the worker sees their rows.
    """
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    process, hostname = start_worker(test_services, log, queues="celery,analysis")
    try:
        yield {"process": process, "hostname": hostname, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_worker(
    services: dict, log: Path, *, queues: str, own_session: bool = False, **env: str
) -> tuple[subprocess.Popen, str]:
    """Start a ``celery worker`` on the test database, Redis and media folder; wait for it.

    ``own_session`` puts it in a process group of its own, so all of it can be killed.
    Returns the process and the worker's host name once it answers a ping.
    """
    command, hostname = worker_command(queues)
    environ = worker_environment(services, **env)
    with open(log, "a") as out:
        process = subprocess.Popen(  # noqa: S603 - our own worker command line
            command,
            cwd=BASE_DIR,
            env=environ,
            stdout=out,
            stderr=out,
            start_new_session=own_session,
        )
    try:
        wait_for_worker(process, hostname, log)
    except BaseException:
        if own_session:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
        raise
    return process, hostname


def worker_command(queues: str) -> tuple[list[str], str]:
    """A ``celery worker`` command line with a unique name, and the host name it answers to."""
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    command = [sys.executable, "-m", "celery", "-A", "samplemind", "worker"]
    command += ["-Q", queues, "--concurrency", "1", "-l", "info", "-n", name]
    command += ["--without-gossip", "--without-mingle"]
    return command, name.replace("%h", os.uname().nodename)


def worker_environment(services: dict, **env: str) -> dict[str, str]:
    """The environment of a process that works on the tests' database, Redis and folders."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
        "REDIS_URL": services["redis_url"],
        "CELERY_BROKER_URL": services["broker_url"],
        "CELERY_RESULT_BACKEND": services["broker_url"],
        "MEDIA_ROOT": str(services["media_root"]),
        "BACKUP_ROOT": str(services["backup_root"]),
        **env,
    }


def wait_for_worker(process: subprocess.Popen, hostname: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited ({process.returncode}):\n{log.read_text()}")
        if celery_app.control.ping(destination=[hostname], timeout=0.5):
            return
    pytest.fail(f"the Celery worker did not answer within 60 s:\n{log.read_text()}")


@pytest.fixture
def browser_page():
    """A headless chromium page and its JavaScript errors (``tests/browser.py``)."""
    from tests.browser import chromium_page

    yield from chromium_page()
