"""Retention: the newest backup of each of the last N days and M weeks survives."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile

from samplemind.ops import backups
from tests.conftest import backup_storage_at

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture(autouse=True)
def fresh_media(request, settings, tmp_path):
    """Media and backup folders of the test's own (the session's are shared with other tests).

    Tests with a real worker keep the session's folder: the worker process uses it.
    """
    if request.node.get_closest_marker("worker") is None:
        settings.MEDIA_ROOT = str(tmp_path / "media")
        settings.STORAGES = backup_storage_at(tmp_path / "backup-storage")


def every_six_hours(days: int) -> dict[str, datetime]:
    return {f"b{i:03d}": NOW - timedelta(hours=6 * i) for i in range(days * 4)}


def test_keeps_the_newest_backup_of_each_recent_day_and_week():
    created = every_six_hours(days=60)

    keep = backups.retention_keep(created, daily=7, weekly=4)

    kept_days = sorted({created[name].date() for name in keep}, reverse=True)
    # Seven daily backups (today and the six days before), plus the newest backup of
    # each of the two earlier ISO weeks within the four most recent weeks.
    assert kept_days[:7] == [NOW.date() - timedelta(days=d) for d in range(7)]
    assert len(keep) == 9
    for name in keep:  # each kept backup is the newest of its day
        same_day = [n for n, when in created.items() if when.date() == created[name].date()]
        assert created[name] == max(created[n] for n in same_day)
    weeks = {created[name].isocalendar()[:2] for name in keep}
    assert len(weeks) == 4


def test_always_keeps_the_newest_even_with_zero_retention():
    created = every_six_hours(days=3)
    assert backups.retention_keep(created, daily=0, weekly=0) == {"b000"}
    assert backups.retention_keep({}, daily=7, weekly=4) == set()


def store_fake_backup(name: str, created: datetime) -> None:
    manifest = {
        "format": backups.MANIFEST_FORMAT,
        "name": name,
        "created_at": created.isoformat(),
        "database": {"file": f"backups/{name}.dump", "size": 4, "tables": {}},
        "media": {"count": 0, "bytes": 0, "files": []},
    }
    storage = backups.backup_storage()
    storage.save(f"backups/{name}.dump", ContentFile(b"PGDMP"))
    storage.save(f"backups/{name}.json", ContentFile(json.dumps(manifest).encode()))


def test_prune_deletes_old_backups_and_stale_orphan_dumps_from_storage(settings):
    settings.BACKUP_KEEP_DAILY = 2
    settings.BACKUP_KEEP_WEEKLY = 0
    for days in range(4):
        store_fake_backup(f"day{days}", NOW - timedelta(days=days))
    storage = backups.backup_storage()
    storage.save("backups/crashed.dump", ContentFile(b"PGDMP"))
    old = (NOW - timedelta(days=3)).timestamp()
    os.utime(storage.path("backups/crashed.dump"), (old, old))
    storage.save("backups/running.dump", ContentFile(b"PGDMP"))  # a backup in progress

    deleted = backups.backups_prune()

    assert sorted(deleted) == ["crashed", "day2", "day3"]
    assert [m["name"] for m in backups.backups_list()] == ["day0", "day1"]
    assert sorted(storage.listdir("backups")[1]) == [
        "day0.dump",
        "day0.json",
        "day1.dump",
        "day1.json",
        "running.dump",
    ]
