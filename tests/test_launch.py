"""`make run`'s launcher: the whole product comes up, and start-up problems read as one line."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.conf import settings

from samplemind import embedded
from samplemind.settings import BASE_DIR
from tests.conftest import database_url

VENV_BIN = str(Path(sys.executable).parent)


def _launch(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "samplemind.launch", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output
    return output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_database_url_is_one_clear_line(tmp_path):
    env = {**os.environ, "SAMPLEMIND_DATA": str(tmp_path)}
    env["DATABASE_URL"] = "postgres://nobody:wrong@127.0.0.1:1/samplemind"

    output = _one_line_error(_launch("--", "true", env=env))

    assert output.startswith("samplemind: error: cannot connect to DATABASE_URL (127.0.0.1:1/")
    assert "wrong" not in output  # the password is not echoed


@pytest.mark.django_db
def test_missing_redis_server_is_one_clear_line(tmp_path):
    env = {**os.environ, "SAMPLEMIND_DATA": str(tmp_path), "PATH": VENV_BIN}
    env["DATABASE_URL"] = database_url(settings.DATABASES["default"])
    env.pop("REDIS_URL", None)

    output = _one_line_error(_launch("--", "true", env=env))

    assert "redis-server is not installed" in output


def test_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "SAMPLEMIND_DATA": str(tmp_path)}

        output = _one_line_error(_launch("--port", str(port), "--", "true", env=env))

    assert f"port {port} is already in use" in output


def test_private_redis_starts_answers_and_stops(tmp_path):
    url = embedded.ensure_redis(tmp_path)

    assert url == embedded.ensure_redis(tmp_path)  # a second call reuses the running server
    assert embedded.redis_url(tmp_path) == url
    embedded.stop_redis(tmp_path)
    assert embedded.redis_url(tmp_path) is None


def _get(opener, url: str) -> tuple[int, str]:
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for_green_health(opener, base: str, process: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + 90
    body: dict = {}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the launcher exited early:\n{log.read_text()}")
        try:
            status, text = _get(opener, base + "/api/v1/health")
            body = json.loads(text)
            if status == 200 and body.get("status") == "ok":
                return body
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(f"health never turned green: {body}\n{log.read_text()}")


@pytest.mark.worker
def test_make_run_serves_admin_and_green_health_then_stops_everything_on_ctrl_c(tmp_path):
    """The launcher as `make run` uses it (DEBUG off, plain HTTP), on a fresh data folder."""
    data = tmp_path / "data"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "SAMPLEMIND_DATA": str(data),
        "SAMPLEMIND_PORT": str(port),
        "SAMPLEMIND_HTTPS": "false",
        "LOG_FORMAT": "plain",
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "CELERY_CONCURRENCY": "1",
    }
    for key in (
        "ADMIN_EMAIL",
        "ADMIN_PASSWORD",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "DEBUG",
    ):
        env.pop(key, None)
    log = tmp_path / "run.log"
    command = [sys.executable, "-m", "samplemind.launch", "--prepare", "--port", str(port)]
    command += ["--", sys.executable, "-m", "samplemind.supervise", "-f", "Procfile"]
    with open(log, "w") as out:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    try:
        health = _wait_for_green_health(opener, base, process, log)
        assert all(check["ok"] for check in health["checks"].values())

        output = log.read_text()
        assert f"http://127.0.0.1:{port}/" in output
        login = re.search(r"Admin login: (\S+) / (\S+)", output)
        assert login, output
        status, page = _get(opener, base + "/admin/login/")
        assert status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {
                "username": login[1],
                "password": login[2],
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
            }
        ).encode()
        request = urllib.request.Request(base + "/admin/login/?next=/admin/", data=form)
        request.add_header("Referer", base + "/admin/login/")
        with opener.open(request, timeout=10) as response:
            assert response.url.endswith("/admin/")
            assert "Site administration" in response.read().decode()
        # Collected by --prepare, served by WhiteNoise with DEBUG off.
        assert _get(opener, base + "/static/css/base.css")[0] == 200
        with opener.open(base + "/api/v1/health", timeout=10) as response:
            assert response.headers["Server"] == "gunicorn"
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise

    assert embedded.postgres_url(data) is None, "the embedded PostgreSQL was left running"
    assert embedded.redis_url(data) is None, "the private Redis was left running"
    leftovers = subprocess.run(  # noqa: S603
        ["pgrep", "-f", str(data)],
        capture_output=True,
        text=True,
        check=False,  # noqa: S607
    )
    assert leftovers.stdout.strip() == "", "processes of this run are still alive"


def test_terminating_the_launcher_stops_its_command_and_its_servers(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["SAMPLEMIND_DATA"] = str(data)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "samplemind.launch", "--", "sleep", "120"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while embedded.redis_url(data) is None or embedded.postgres_url(data) is None:
        assert time.monotonic() < deadline and process.poll() is None, process.stdout.read()
        time.sleep(0.2)
    time.sleep(0.5)  # let the launcher reach its command

    process.terminate()
    process.wait(timeout=60)

    assert embedded.postgres_url(data) is None
    assert embedded.redis_url(data) is None


def _launch_until(release: Path, env: dict[str, str]) -> subprocess.Popen:
    """A launcher whose command runs until ``release`` exists."""
    wait = (
        f"import pathlib, time\nwhile not pathlib.Path({str(release)!r}).exists(): time.sleep(0.05)"
    )
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "samplemind.launch", "--", sys.executable, "-c", wait],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.django_db
def test_the_last_launcher_to_end_stops_the_servers_another_started(tmp_path):
    """`make test` ending must not pull Redis away from a `make run` that joined it."""
    data = tmp_path / "data"
    env = {**os.environ, "SAMPLEMIND_DATA": str(data)}
    env["DATABASE_URL"] = database_url(settings.DATABASES["default"])
    env.pop("REDIS_URL", None)
    first_done, second_done = tmp_path / "first-done", tmp_path / "second-done"
    first = _launch_until(first_done, env)
    second = None
    try:
        deadline = time.monotonic() + 60
        while embedded.redis_url(data) is None:
            assert time.monotonic() < deadline and first.poll() is None, "Redis never started"
            time.sleep(0.1)
        second = _launch_until(second_done, env)
        while not (data / "launchers" / str(second.pid)).exists():
            assert time.monotonic() < deadline and second.poll() is None, "never signed in"
            time.sleep(0.1)

        first_done.touch()  # the one that started Redis ends first
        assert first.wait(timeout=60) == 0, first.stdout.read()
        still_up = embedded.redis_url(data)
        second_done.touch()
        assert second.wait(timeout=60) == 0, second.stdout.read()
    finally:  # never leave the launchers waiting
        first_done.touch()
        second_done.touch()
        for process in (first, second):
            if process is not None:
                process.wait(timeout=60)

    assert still_up is not None
    assert embedded.redis_url(data) is None
