"""Backups: dump, wipe, restore gives back every row and checks every media file.

Everything runs on the tests' own database (pytest-django's test database)
and media folder; verification uses a scratch database named after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from library.models import AnalysisResult, Collection, CollectionItem, Sample
from samplemind.ops import backups, pg
from tests.conftest import backup_storage_at, database_url
from tests.factories import BatchJobFactory, CollectionFactory, SampleFactory, UserFactory

BASE_DIR = settings.BASE_DIR


@pytest.fixture(autouse=True)
def fresh_media(request, settings, tmp_path):
    """Media and backup folders of the test's own (the session's are shared with other tests).

    Tests with a real worker keep the session's folder: the worker process uses it.
    """
    if request.node.get_closest_marker("worker") is None:
        settings.MEDIA_ROOT = str(tmp_path / "media")
        settings.STORAGES = backup_storage_at(tmp_path / "backup-storage")


def make_library() -> dict:
    """Users, samples with files (one with a preview), a collection, a batch, analyses."""
    alice, bob = UserFactory(), UserFactory()
    batch = BatchJobFactory(owner=alice, kind="upload", total=2, done=2)
    samples = [SampleFactory(owner=alice, batch=batch) for _ in range(3)] + [
        SampleFactory(owner=bob)
    ]
    samples[0].preview.save("preview.mp3", ContentFile(b"ID3 preview bytes"))
    for sample in samples:
        AnalysisResult.objects.create(sample=sample, analyzer_version="1", status="ready")
    crate = CollectionFactory(owner=alice, name="Crate")
    for position, sample in enumerate(samples[:3]):
        CollectionItem.objects.create(collection=crate, sample=sample, position=position)
    return {"users": [alice, bob], "samples": samples, "collection": crate}


def counts() -> dict[str, int]:
    with pg.connect(pg.target(), autocommit=True) as conn:
        return pg.row_counts(conn)


def media() -> dict[str, tuple[int, str]]:
    return {e["path"]: (e["size"], e["sha256"]) for e in backups.media_manifest(default_storage)}


def backup() -> str:
    out = StringIO()
    call_command("backup", "--no-prune", stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("backup "), line
    return line.split()[1].rstrip(":")


def stored_backup_files() -> list[str]:
    storage = backups.backup_storage()
    return storage.listdir("backups")[1] if storage.exists("backups") else []


def database_exists(name: str) -> bool:
    with pg.maintenance_connection(pg.target()) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()


@pytest.mark.django_db(transaction=True)
def test_backup_wipe_restore_gives_identical_rows_and_media():
    library = make_library()
    before_counts, before_media = counts(), media()
    name = backup()

    with connection.cursor() as cursor:  # the wipe: every table, sequence and extension gone
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    assert "public.library_sample" not in counts()

    out = StringIO()
    call_command("restore", name, interactive=False, stdout=out)

    assert counts() == before_counts
    assert before_counts["public.library_sample"] == 4
    assert before_counts["public.library_collectionitem"] == 3
    assert media() == before_media
    assert len(before_media) == 5  # four samples and one preview
    assert f"media: all {len(before_media)} files present and unchanged" in out.getvalue()
    restored = Sample.objects.get(pk=library["samples"][0].pk)
    assert restored.preview.read() == b"ID3 preview bytes"
    assert list(library["collection"].items.values_list("sample_id", flat=True)) == [
        sample.pk for sample in library["samples"][:3]
    ]
    # Sequences came back too: a new row does not collide with a restored one.
    assert UserFactory().pk > max(user.pk for user in library["users"])


@pytest.mark.django_db(transaction=True)
def test_restore_undoes_later_changes_and_reports_missing_and_changed_media():
    library = make_library()
    before = counts()
    name = backup()
    SampleFactory(owner=library["users"][1])
    library["collection"].delete()
    first, second = library["samples"][:2]
    default_storage.delete(first.file.name)
    with open(default_storage.path(second.file.name), "ab") as handle:
        handle.write(b"tampered")

    out = StringIO()
    with pytest.raises(CommandError, match="1 missing, 1 changed of 5 files"):
        call_command("restore", "latest", interactive=False, stdout=out)

    assert counts() == before  # the database is restored all the same
    assert Collection.objects.filter(name="Crate").exists()
    assert f"media missing: {first.file.name}" in out.getvalue()
    assert f"media changed: {second.file.name}" in out.getvalue()
    assert name in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_verify_restores_into_a_scratch_database_and_compares_row_counts():
    make_library()
    out = StringIO()

    call_command("backup", "--verify", "--no-prune", stdout=out)

    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("backup ")
    assert "every row count matches" in lines[-1]
    scratch = pg.scratch_name(settings.DATABASES["default"]["NAME"])
    assert scratch != settings.DATABASES["default"]["NAME"]
    assert not database_exists(scratch)
    # An existing backup can be verified by name as well.
    out = StringIO()
    call_command("backup", "--verify", "latest", stdout=out)
    assert "every row count matches" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_verify_reports_rows_that_do_not_come_back():
    make_library()
    name = backup()
    manifest = backups.backup_get(name=name)
    manifest["database"]["tables"]["public.library_sample"] += 1  # pretend one row was lost
    path = f"backups/{name}.json"
    backups.backup_storage().delete(path)
    backups.backup_storage().save(path, ContentFile(json.dumps(manifest).encode()))

    out = StringIO()
    with pytest.raises(CommandError, match="does not restore faithfully: 1 of"):
        call_command("backup", "--verify", name, stdout=out)
    assert "public.library_sample: 5 rows in the backup, 4 after restoring" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_damaged_dump_is_refused_before_anything_is_restored():
    make_library()
    before = counts()
    name = backup()
    with open(backups.backup_storage().path(f"backups/{name}.dump"), "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00" * 16)
    UserFactory()

    with pytest.raises(CommandError, match="is damaged"):
        call_command("restore", name, interactive=False, stdout=StringIO())
    assert counts()["public.accounts_user"] == before["public.accounts_user"] + 1


@pytest.mark.django_db
def test_backup_list_and_unknown_names(tmp_path):
    with pytest.raises(CommandError, match="there are no backups"):
        call_command("restore", "latest", interactive=False)
    out = StringIO()
    call_command("backup", "--list", stdout=out)
    assert out.getvalue().strip() == "no backups yet"
    with pytest.raises(CommandError, match="'../secrets' is not a backup name"):
        call_command("restore", "../secrets", interactive=False)


@pytest.mark.django_db
def test_a_pg_dump_older_than_the_server_is_refused_clearly(settings, tmp_path):
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.4'\n")
    fake.chmod(0o755)
    settings.BACKUP_PG_BIN_DIR = str(tmp_path)

    with pytest.raises(CommandError, match=r"no pg_dump for PostgreSQL 18 or newer; tried .*"):
        call_command("backup")
    assert stored_backup_files() == []


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        **os.environ,
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "BACKUP_ROOT": backups.backup_storage().location,
        "REDIS_URL": settings.REDIS_URL,
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_command_errors_are_one_line_without_a_traceback(tmp_path):
    missing = run_manage("restore", "20990101-000000-deadbeef", "--noinput")

    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "CommandError: no backup named '20990101-000000-deadbeef' (see manage.py backup --list)"
    )

    fake = tmp_path / "pg_dump"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi\n'
        'echo "pg_dump: error: could not write to output file: No space left on device" >&2\n'
        "exit 1\n"
    )
    fake.chmod(0o755)
    failed = run_manage("backup", BACKUP_PG_BIN_DIR=str(tmp_path))

    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        "CommandError: backup failed: pg_dump failed (exit 1): pg_dump: error: could not "
        "write to output file: No space left on device"
    )
    assert "Traceback" not in failed.stderr
    # Nothing half-made is left behind.
    assert stored_backup_files() == []


def test_the_backup_task_is_scheduled_from_settings():
    from samplemind.celery import app
    from samplemind.ops.tasks import backup as backup_task

    entry = settings.CELERY_BEAT_SCHEDULE["backup"]
    assert entry["task"] == backup_task.name == "samplemind.backup"
    assert "samplemind.ops.tasks" in app.conf.imports  # what workers import
    assert entry["options"]["time_limit"] > entry["options"]["soft_time_limit"] > 0
    assert backup_task.acks_late is False


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_backup_task_runs_in_a_worker(celery_worker_process):
    make_library()
    from samplemind.ops.tasks import backup as backup_task

    name = backup_task.delay().get(timeout=120)

    manifest = backups.backup_get(name=name)
    assert manifest["database"]["name"] == settings.DATABASES["default"]["NAME"]
    assert manifest["database"]["tables"] == counts()
    stored = {(e["path"], e["size"], e["sha256"]) for e in manifest["media"]["files"]}
    assert stored == {(e["path"], e["size"], e["sha256"]) for e in backups.media_manifest()}
    assert len(stored) >= 5


def test_database_names_for_verification_fit_postgres_limits():
    assert pg.scratch_name("samplemind") == "samplemind_verify"
    long = "x" * 63
    assert len(pg.scratch_name(long)) == 63
    assert pg.scratch_name(long).endswith("_verify")


def test_connection_details_never_put_the_password_on_the_command_line():
    where = pg.Target({"dbname": "db", "user": "u", "password": "s3cret", "host": "h"})
    assert "s3cret" not in where.conninfo()
    assert where.environ()["PGPASSWORD"] == "s3cret"
    with pytest.raises(pg.PgError, match="cannot connect to database 'db'"):
        pg.connect(pg.Target({**where.params, "host": "/nonexistent", "connect_timeout": "2"}))
