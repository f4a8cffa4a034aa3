"""`make run`'s process manager restarts what dies; the port check lets TIME_WAIT through."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.db import connection

from library.models import Sample, SampleStatus
from library.tasks import analyze_sample
from samplemind.embedded import ServiceError
from samplemind.launch import _check_port
from samplemind.settings import BASE_DIR
from tests import audio
from tests.conftest import wait_for_worker, worker_command, worker_environment
from tests.factories import SampleFactory


def _supervise(procfile: Path, log: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(  # noqa: S603 - our own module
            [sys.executable, "-m", "samplemind.supervise", "-f", str(procfile)],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_for(condition, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s:\n{log.read_text()}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_a_process_that_dies_is_restarted_with_backoff_and_the_others_run_on(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"steady: {sys.executable} -c 'import time; print(\"up\", flush=True); time.sleep(600)'\n"
        f"crashy: {sys.executable} -c 'import sys; print(\"boom\", flush=True); sys.exit(3)'\n"
    )
    log = tmp_path / "supervise.log"
    process = _supervise(procfile, log, dict(os.environ))
    try:
        _wait_for(lambda: log.read_text().count("crashy died") >= 3, "three restarts", log)
        assert process.poll() is None
    finally:
        code = _stop(process)
    output = log.read_text()

    assert code == 0
    delays = [
        int(d) for d in re.findall(r"crashy died \(exit 3\) after \d+ s; again in (\d+) s", output)
    ]
    assert delays[:3] == [1, 2, 4]  # doubling while it keeps dying at once
    assert output.count("steady     | up") == 1  # never stopped nor restarted
    assert output.count("steady started") == 1
    steady_pid = int(re.search(r"steady started \(pid (\d+)\)", output)[1])
    with pytest.raises(ProcessLookupError):
        os.kill(steady_pid, 0)  # stopped with the supervisor


def test_the_port_check_lets_time_wait_connections_through():
    with socket.socket() as listener:
        # As gunicorn's and runserver's listeners do; their connections inherit it.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first: its end waits in TIME_WAIT
        client.close()
        with pytest.raises(ServiceError, match="already in use"):
            _check_port(port)  # still listening: refused
    _check_port(port)  # only the TIME_WAIT connection is left: fine


def _advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        return cursor.fetchone()[0]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_is_restarted_and_the_sample_still_gets_analysed(
    test_services, tmp_path
):
    command, hostname = worker_command("celery,analysis")
    procfile = tmp_path / "Procfile"
    procfile.write_text("worker: " + " ".join(command) + "\n")
    log = tmp_path / "supervise.log"
    # A short visibility timeout, so the test need not wait the real two minutes.
    env = worker_environment(test_services, CELERY_VISIBILITY_TIMEOUT="5")
    wav = audio.write(tmp_path / "kick.wav", audio.kick())
    sample = SampleFactory(status=SampleStatus.PENDING, file=ContentFile(wav.read_bytes(), "k.wav"))
    supervisor = _supervise(procfile, log, env)
    # Holds the sample's row so the task stays in flight: it takes its advisory lock, then
    # waits for the row.
    holder = psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://", 1))
    try:
        wait_for_worker(supervisor, hostname, log)
        first_pid = int(re.search(r"worker started \(pid (\d+)\)", log.read_text())[1])
        holder.execute("SELECT 1 FROM library_sample WHERE id = %s FOR UPDATE", [sample.pk])
        analyze_sample.delay(str(sample.pk))
        _wait_for(lambda: _advisory_locks() == 1, "the task starting", log)

        os.kill(first_pid, signal.SIGKILL)  # the worker's main process
        # Its pool process dies with it; its database session ends once the row is free.
        holder.rollback()
        _wait_for(lambda: _advisory_locks() == 0, "the pool process dying with it", log)

        _wait_for(lambda: "worker died (signal SIGKILL)" in log.read_text(), "the death", log)
        wait_for_worker(supervisor, hostname, log)
        _wait_for(
            lambda: Sample.objects.get(pk=sample.pk).status == SampleStatus.READY,
            "the analysis",
            log,
            timeout=90,
        )
    finally:
        holder.close()
        _stop(supervisor)

    assert log.read_text().count("worker started") == 2
    # The killed copy's claim may have counted (its UPDATE finishes once the row is free);
    # the crash must still leave attempts to spare, so one more failure is not fatal.
    from django.conf import settings

    attempts = Sample.objects.get(pk=sample.pk).analysis_attempts
    assert 1 <= attempts < settings.SAMPLEMIND_ANALYSIS_MAX_ATTEMPTS
