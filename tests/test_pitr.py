"""Point-in-time recovery, end to end, on an embedded server of the test's own.

The server lives in a temporary data folder (never the suite's shared one,
which it stops and replaces); ``manage.py`` runs against it in subprocesses,
as an operator would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from samplemind import embedded
from samplemind.ops import pitr

BASE_DIR = settings.BASE_DIR


@dataclass
class Server:
    data: Path
    env: dict[str, str]

    @property
    def archive(self) -> Path:
        return self.data / "wal-archive"

    @property
    def backups(self) -> Path:
        return self.data / "backup-storage"

    def connect(self) -> psycopg.Connection:
        url = embedded.postgres_url(self.data)
        assert url, "the test's PostgreSQL is not running"
        return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)

    def sql(self, statement: str) -> list[tuple]:
        with self.connect() as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def manage(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        return result

    def basebackups(self) -> list[dict]:
        folder = self.backups / "basebackups"
        return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


@pytest.fixture(scope="module")
def server(test_services):
    # Not under pytest's base temporary folder: a pytest started by anyone makes that folder
    # private again (0700), and PostgreSQL runs as another user when the tests run as root.
    data = Path(tempfile.mkdtemp(prefix="samplemind-pitr-"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAL_ARCHIVE_DIR", str(data / "wal-archive"))
        url = embedded.ensure_postgres(data)
    env = {
        **os.environ,
        "SAMPLEMIND_DATA": str(data),
        "DATABASE_URL": url,
        "WAL_ARCHIVE_DIR": str(data / "wal-archive"),
        "REDIS_URL": test_services["redis_url"],
        "BACKUP_ROOT": str(data / "backup-storage"),
        "MEDIA_ROOT": str(data / "media"),
        "SECRET_KEY": "pitr-test",
        "LOG_FORMAT": "plain",
        "LOG_LEVEL": "WARNING",
    }
    server = Server(data, env)
    try:
        migrated = server.manage("migrate", "--noinput", "-v", "0")
        assert migrated.returncode == 0, migrated.stderr
        yield server
    finally:
        embedded.stop_postgres(data)
        shutil.rmtree(data, ignore_errors=True)


def base_backup(server: Server, **env: str) -> str:
    result = server.manage("backup", "--base", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("base backup "), result.stdout
    return result.stdout.split()[2].rstrip(":")


def server_time(server: Server) -> str:
    (now,) = server.sql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")[0]
    return now


def test_recovery_to_a_moment_keeps_what_was_committed_before_it_and_nothing_after(server):
    server.sql("CREATE TABLE probe (label text PRIMARY KEY)")
    server.sql("CREATE TABLE kept (id int)")
    server.sql("INSERT INTO probe VALUES ('before the base backup')")
    before_backup = server_time(server)
    name = base_backup(server)
    server.sql("INSERT INTO probe VALUES ('before the moment')")
    time.sleep(1.2)
    moment = server_time(server)
    time.sleep(1.2)
    server.sql("INSERT INTO probe VALUES ('after the moment')")
    server.sql("UPDATE probe SET label = 'renamed later' WHERE label = 'before the base backup'")
    server.sql("DROP TABLE kept")  # the mistake recovery is for

    # Moments recovery cannot reach are refused before anything stops.
    too_early = server.manage("restore", "--to", before_backup, "--noinput")
    assert too_early.returncode == 1
    assert "no base backup was finished by" in too_early.stderr
    future = server.manage("restore", "--to", "2999-01-01 00:00", "--noinput")
    assert future.returncode == 1
    assert "is in the future" in future.stderr
    assert len(server.sql("SELECT * FROM probe")) == 3

    result = server.manage("restore", "--to", moment, "--noinput")

    assert result.returncode == 0, result.stderr
    assert f"from base backup {name}" in result.stdout
    labels = sorted(label for (label,) in server.sql("SELECT label FROM probe"))
    assert labels == ["before the base backup", "before the moment"]
    assert server.sql("SELECT count(*) FROM kept") == [(0,)]  # the dropped table is back
    # The server has promoted itself: it takes writes, on a new timeline it archives too.
    assert server.sql("SELECT pg_is_in_recovery()") == [(False,)]
    # ...and the recovery settings are gone, so a restart does not recover again.
    assert server.sql("SELECT name FROM pg_file_settings WHERE name ~ '^(recovery|restore)'") == []
    assert not (server.data / "pgdata" / "recovery.signal").exists()
    server.sql("INSERT INTO probe VALUES ('after the recovery')")
    server.sql("SELECT pg_switch_wal()")
    deadline = time.monotonic() + 30
    while not list(server.archive.glob("00000002*.gz")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (server.archive / "00000002.history.gz").exists()
    # The data folder as it was is kept for the operator to delete.
    kept = [path.name for path in server.data.glob("pgdata.before-restore-*")]
    assert len(kept) == 1
    assert f"kept in {server.data / kept[0]}" in result.stdout


def archived_segments(server: Server) -> set[str]:
    """Archived WAL files (not history files), named as PostgreSQL names them."""
    return {path.name.removesuffix(".gz") for path in server.archive.glob("*.gz")} - {
        name
        for name in (p.name.removesuffix(".gz") for p in server.archive.glob("*.gz"))
        if name.endswith(".history")
    }


def test_old_base_backups_and_the_wal_only_they_need_are_deleted(server):
    first = base_backup(server)
    server.sql("CREATE TABLE IF NOT EXISTS filler (n int)")
    for _ in range(3):  # a few WAL files between the two base backups
        server.sql("INSERT INTO filler SELECT generate_series(1, 1000)")
        server.sql("SELECT pg_switch_wal()")
    time.sleep(1)
    before = archived_segments(server)

    second = base_backup(server, BASEBACKUP_KEEP="1")

    assert [manifest["name"] for manifest in server.basebackups()] == [second]
    assert not [
        path
        for path in (server.backups / "basebackups").rglob("*")
        if first in str(path) and path.is_file()
    ]
    start = server.basebackups()[0]["start_wal"]
    after = archived_segments(server)
    assert before - after, "no archived WAL was deleted"
    # PostgreSQL's own rule: a WAL file is older when its log and segment number are lower.
    assert all(name[8:] < start[8:] for name in before - after)
    assert all(name[8:] >= start[8:] for name in after), (start, sorted(after))
    listing = server.manage("backup", "--list")
    assert second in listing.stdout
    assert first not in listing.stdout


def test_base_backups_are_scheduled_from_settings():
    from samplemind.ops.tasks import basebackup

    entry = settings.CELERY_BEAT_SCHEDULE["basebackup"]
    assert entry["task"] == basebackup.name == "samplemind.basebackup"
    assert basebackup.acks_late is False
    assert pitr.FOLDER == "basebackups"


def test_a_recovery_that_cannot_reach_its_moment_puts_the_previous_data_back(server):
    base_backup(server)
    server.sql("CREATE TABLE IF NOT EXISTS probe (label text PRIMARY KEY)")
    server.sql("INSERT INTO probe VALUES ('written after the last base backup')")
    time.sleep(1.2)
    moment = server_time(server)
    server.sql("SELECT pg_switch_wal()")
    time.sleep(2)
    start = server.basebackups()[0]["start_wal"]
    for path in server.archive.glob("*.gz"):  # the WAL after the base backup is lost
        if not path.name.endswith(".history.gz") and path.name[8:24] > start[8:]:
            path.unlink()
    rows = server.sql("SELECT count(*) FROM probe")

    result = server.manage("restore", "--to", moment, "--noinput")

    assert result.returncode == 1
    assert "recovery failed: recovery ended before configured recovery target was reached" in (
        result.stderr
    )
    # The server runs on the data as it was, the failed attempt is kept aside.
    assert server.sql("SELECT count(*) FROM probe") == rows
    assert server.sql("SELECT pg_is_in_recovery()") == [(False,)]
    assert len(list(server.data.glob("pgdata.failed-restore-*"))) == 1
