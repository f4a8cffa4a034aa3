"""Backups: a ``pg_dump`` of the database plus a manifest of the media files.

A backup named ``NAME`` is two files in the backup storage (the storage alias
``BACKUP_STORAGE``: ``backups``, which no URL serves; ``$SAMPLEMIND_DATA`` or the
bucket, beside the media, never in them) under ``backups/``:

- ``NAME.dump``: ``pg_dump`` custom format, compressed (``BACKUP_COMPRESSION``);
- ``NAME.json``: the manifest: when, which server, the dump's size and
  SHA-256, the exact row count of every table, and every media file's path,
  size and SHA-256. It is written last, so a backup without one is incomplete.

Row counts and the dump come from one exported snapshot, so they agree even
while the site is writing. Media files are listed, not copied: they already
live in durable storage, and the manifest tells a restore which ones are
missing or changed. Names end in a random part, so that they can be listed,
never guessed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage, storages
from django.db import connections
from django.utils import timezone

from samplemind.ops import pg

logger = logging.getLogger(__name__)

FOLDER = "backups"
# Where sample rows keep their files (library.models.sample_upload_to, preview_upload_to).
MEDIA_FOLDERS = ("samples", "previews")
MANIFEST_FORMAT = 1
CHUNK = 1024 * 1024
# Backups, verifications and restores take this session lock so they never overlap.
LOCK_KEY = zlib.crc32(b"samplemind.backup")
# A dump without a manifest older than this is a crashed run's leftover.
ORPHAN_AGE = timedelta(days=1)


class BackupError(RuntimeError):
    """A backup, verification or restore could not be done; ``str()`` is one line."""


@dataclass
class TableCheck:
    table: str
    expected: int | None
    actual: int | None

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass
class MediaCheck:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed


@dataclass
class RestoreResult:
    """What a verification or a restore found: row counts per table, and media."""

    name: str
    tables: list[TableCheck]
    media: MediaCheck | None = None
    seconds: float = 0.0

    @property
    def mismatched(self) -> list[TableCheck]:
        return [check for check in self.tables if not check.ok]

    @property
    def rows(self) -> int:
        return sum(check.actual or 0 for check in self.tables)


# --------------------------------------------------------------------------- storage


def backup_storage() -> Storage:
    return storages[getattr(settings, "BACKUP_STORAGE", "default")]


def _dump_path(name: str) -> str:
    return f"{FOLDER}/{name}.dump"


def _manifest_path(name: str) -> str:
    return f"{FOLDER}/{name}.json"


def _listdir(storage: Storage, path: str) -> tuple[list[str], list[str]]:
    try:
        return storage.listdir(path)
    except FileNotFoundError:
        return [], []


def backups_list() -> list[dict[str, Any]]:
    """Manifests of every complete backup, newest first."""
    storage = backup_storage()
    manifests = []
    for filename in _listdir(storage, FOLDER)[1]:
        if filename.endswith(".json"):
            try:
                manifests.append(backup_get(name=filename.removesuffix(".json")))
            except BackupError as exc:
                logger.warning("skipping unreadable backup manifest %s: %s", filename, exc)
    return sorted(manifests, key=lambda manifest: manifest["created_at"], reverse=True)


def backup_get(*, name: str) -> dict[str, Any]:
    """The manifest of backup ``name`` (``latest`` is the newest one)."""
    if name == "latest":
        found = backups_list()
        if not found:
            raise BackupError(f"there are no backups in {FOLDER}/ yet")
        return found[0]
    if not name or "/" in name or name.startswith("."):
        raise BackupError(f"{name!r} is not a backup name (see manage.py backup --list)")
    storage = backup_storage()
    path = _manifest_path(name)
    try:
        with storage.open(path, "rb") as handle:
            manifest = json.loads(handle.read())
    except FileNotFoundError:
        raise BackupError(f"no backup named {name!r} (see manage.py backup --list)") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"the manifest of backup {name!r} is unreadable: {exc}") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"backup {name!r} has an unknown manifest format")
    return manifest


def _new_name(storage: Storage, now: datetime) -> str:
    while True:
        name = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"
        if not storage.exists(_manifest_path(name)) and not storage.exists(_dump_path(name)):
            return name


# --------------------------------------------------------------------------- media manifest


def _hash(storage: Storage, path: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with storage.open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _walk(storage: Storage, folder: str = "") -> Iterator[str]:
    folders, files = _listdir(storage, folder)
    for filename in sorted(files):
        yield f"{folder}/{filename}" if folder else filename
    for sub in sorted(folders):
        if not folder and sub == FOLDER:
            continue  # the backups themselves
        yield from _walk(storage, f"{folder}/{sub}" if folder else sub)


def _modified(storage: Storage, path: str) -> str | None:
    try:
        return storage.get_modified_time(path).isoformat()
    except (NotImplementedError, OSError):
        return None


def media_manifest(
    storage: Storage | None = None, *, previous: Iterable[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Path, size and SHA-256 of every media file (``backups/`` excluded).

    A file whose size and modification time match its entry in ``previous``
    keeps that entry's checksum, so a nightly backup reads only new files.
    """
    storage = storage or default_storage
    known = {entry["path"]: entry for entry in previous}
    files = []
    for path in _walk(storage):
        modified = _modified(storage, path)
        old = known.get(path)
        if (
            old
            and modified
            and old.get("modified") == modified
            and old["size"] == storage.size(path)
        ):
            size, sha256 = old["size"], old["sha256"]
        else:
            size, sha256 = _hash(storage, path)
        files.append({"path": path, "size": size, "sha256": sha256, "modified": modified})
    return files


def media_check(files: Iterable[dict[str, Any]], storage: Storage | None = None) -> MediaCheck:
    """Compare the media storage with a manifest's file list: what is missing or changed."""
    storage = storage or default_storage
    result = MediaCheck()
    for entry in files:
        result.checked += 1
        try:
            size, sha256 = _hash(storage, entry["path"])
        except FileNotFoundError:
            result.missing.append(entry["path"])
            continue
        if size != entry["size"] or sha256 != entry["sha256"]:
            result.changed.append(entry["path"])
    return result


def media_orphans(known: Set[str], storage: Storage | None = None) -> list[str]:
    """Sample files and previews in the media storage not in ``known``.

    ``known`` is what the rows name (``library.selectors.stored_file_names``).
    After restoring an older backup the others are the files of samples uploaded
    since; an analysis killed outright can leave a preview behind too.
    """
    storage = storage or default_storage
    return [
        path for folder in MEDIA_FOLDERS for path in _walk(storage, folder) if path not in known
    ]


def media_orphans_remove(paths: Iterable[str], storage: Storage | None = None) -> int:
    """Delete the given orphaned media files; returns how many were deleted."""
    storage = storage or default_storage
    removed = 0
    for path in paths:
        storage.delete(path)
        removed += 1
    logger.warning("removed %s orphaned media files", removed)
    return removed


# --------------------------------------------------------------------------- backup


def _lock(conn: psycopg.Connection, what: str) -> None:
    (locked,) = conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()
    if not locked:
        raise BackupError(f"cannot {what}: another backup or restore is running")


def backup_create(*, now: datetime | None = None) -> dict[str, Any]:
    """Dump the database and list the media; store both; return the manifest."""
    started = time.monotonic()
    now = now or timezone.now()
    storage = backup_storage()
    where = pg.target()
    name = _new_name(storage, now)
    try:
        previous = backups_list()
        with tempfile.TemporaryDirectory(prefix="samplemind-backup-") as tmp:
            dump = Path(tmp) / "database.dump"
            database = _dump(where, dump)
            with open(dump, "rb") as handle:
                stored = storage.save(_dump_path(name), File(handle, name=f"{name}.dump"))
        database["file"] = stored
        files = media_manifest(previous=previous[0]["media"]["files"] if previous else ())
        manifest = {
            "format": MANIFEST_FORMAT,
            "name": name,
            "created_at": now.isoformat(),
            "database": database,
            "media": {
                "count": len(files),
                "bytes": sum(entry["size"] for entry in files),
                "files": files,
            },
            "seconds": round(time.monotonic() - started, 2),
        }
        storage.save(_manifest_path(name), ContentFile(json.dumps(manifest, indent=1).encode()))
    except pg.PgError as exc:
        _delete_quietly(storage, _dump_path(name))
        raise BackupError(f"backup failed: {exc}") from None
    except OSError as exc:
        _delete_quietly(storage, _dump_path(name))
        raise BackupError(f"backup failed: cannot write to the backup storage: {exc}") from None
    logger.info(
        "backup %s stored: %s tables, %s media files",
        name,
        len(database["tables"]),
        len(files),
        extra={"backup": name, "dump_bytes": database["size"]},
    )
    return manifest


def _dump(where: pg.Target, path: Path) -> dict[str, Any]:
    """Run ``pg_dump`` on one exported snapshot; count rows in the same snapshot."""
    with pg.connect(where) as conn:
        major = pg.server_major(conn)
        tool = pg.find_tool("pg_dump", min_major=major)
        try:
            _lock(conn, "back up")
            conn.commit()  # the session lock stays; the snapshot comes next
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()
            counts = pg.row_counts(conn)
            compression = str(getattr(settings, "BACKUP_COMPRESSION", "6"))
            pg.run_tool(
                tool,
                [
                    "--format=custom",
                    f"--compress={compression}",
                    f"--snapshot={snapshot}",
                    f"--file={path}",
                    f"--dbname={where.conninfo()}",
                ],
                where=where,
            )
            conn.rollback()
        except psycopg.Error as exc:
            raise BackupError(f"backup failed: {pg.first_line(exc)}") from None
        server_version = conn.info.parameter_status("server_version")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return {
        "name": where.dbname,
        "server_version": server_version,
        "pg_dump_major": pg.tool_version(tool),
        "compression": compression,
        "size": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "tables": counts,
    }


def _delete_quietly(storage: Storage, path: str) -> None:
    try:
        if storage.exists(path):
            storage.delete(path)
    except OSError:
        logger.warning("could not delete %s from the backup storage", path)


# --------------------------------------------------------------------------- verify and restore


def _fetch_dump(manifest: dict[str, Any], folder: str) -> Path:
    """Copy a backup's dump to ``folder``, checking it against the manifest's SHA-256."""
    storage = backup_storage()
    source = manifest["database"]["file"]
    target = Path(folder) / "database.dump"
    digest = hashlib.sha256()
    try:
        with storage.open(source, "rb") as handle, open(target, "wb") as out:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except FileNotFoundError:
        raise BackupError(f"backup {manifest['name']!r} has lost its dump {source}") from None
    if digest.hexdigest() != manifest["database"]["sha256"]:
        raise BackupError(
            f"backup {manifest['name']!r} is damaged: its dump does not match the "
            "manifest's checksum"
        )
    return target


def _pg_restore(where: pg.Target, dump: Path, manifest: dict[str, Any], *, clean: bool) -> None:
    with pg.connect(where, autocommit=True) as conn:
        needed = max(pg.server_major(conn), manifest["database"].get("pg_dump_major") or 0)
    tool = pg.find_tool("pg_restore", min_major=needed)
    args = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if clean:
        args += ["--clean", "--if-exists"]
    # Waiting on a lock the running site holds fails after a minute, instead of hanging.
    options = "-c lock_timeout=60000"
    pg.run_tool(
        tool, [*args, f"--dbname={where.conninfo()}", str(dump)], where=where, PGOPTIONS=options
    )


def _compare(where: pg.Target, expected: dict[str, int]) -> list[TableCheck]:
    with pg.connect(where, autocommit=True) as conn:
        actual = pg.row_counts(conn)
    checks = [TableCheck(table, count, actual.get(table)) for table, count in expected.items()]
    return sorted(checks, key=lambda check: check.table)


def backup_verify(*, name: str) -> RestoreResult:
    """Restore backup ``name`` into a scratch database and compare row counts per table.

    The scratch database is named after the real one plus ``_verify`` and is
    dropped afterwards, whatever happens.
    """
    started = time.monotonic()
    manifest = backup_get(name=name)
    where = pg.target()
    scratch = where.with_dbname(pg.scratch_name(where.dbname))
    try:
        with tempfile.TemporaryDirectory(prefix="samplemind-verify-") as tmp:
            dump = _fetch_dump(manifest, tmp)
            pg.create_database(where, scratch.dbname)
            try:
                _pg_restore(scratch, dump, manifest, clean=False)
                tables = _compare(scratch, manifest["database"]["tables"])
            finally:
                pg.drop_database(where, scratch.dbname)
    except pg.PgError as exc:
        raise BackupError(f"verification of {manifest['name']} failed: {exc}") from None
    return RestoreResult(manifest["name"], tables, seconds=round(time.monotonic() - started, 2))


def backup_restore(*, name: str, check_media: bool = True) -> RestoreResult:
    """Replace the database's contents with backup ``name``; check media against its manifest.

    ``pg_restore`` runs in one transaction: if anything fails, the database is
    left as it was. Tables the backup does not know (added later) are kept.
    """
    started = time.monotonic()
    manifest = backup_get(name=name)
    where = pg.target()
    connections.close_all()  # this process's own connections must not hold locks
    try:
        with tempfile.TemporaryDirectory(prefix="samplemind-restore-") as tmp:
            dump = _fetch_dump(manifest, tmp)
            with pg.connect(where, autocommit=True) as lock:
                _lock(lock, "restore")
                _pg_restore(where, dump, manifest, clean=True)
        tables = _compare(where, manifest["database"]["tables"])
    except pg.PgError as exc:
        raise BackupError(f"restore of {manifest['name']} failed: {exc}") from None
    media = media_check(manifest["media"]["files"]) if check_media else None
    logger.warning("database restored from backup %s", manifest["name"])
    return RestoreResult(
        manifest["name"], tables, media, seconds=round(time.monotonic() - started, 2)
    )


# --------------------------------------------------------------------------- retention


def retention_keep(created: dict[str, datetime], *, daily: int, weekly: int) -> set[str]:
    """Names to keep: the newest backup, and the newest of each of the last ``daily``
    days and the last ``weekly`` ISO weeks that have backups."""
    newest_first = sorted(created, key=created.__getitem__, reverse=True)
    keep = set(newest_first[:1])
    for limit, period in (
        (daily, lambda when: when.date()),
        (weekly, lambda when: when.isocalendar()[:2]),
    ):
        seen: list[object] = []
        for name in newest_first:
            key = period(created[name].astimezone(UTC))
            if key not in seen:
                seen.append(key)
                if len(seen) > limit:
                    break
                keep.add(name)
    return keep


def backups_prune(*, daily: int | None = None, weekly: int | None = None) -> list[str]:
    """Delete backups outside the retention (``BACKUP_KEEP_DAILY``, ``BACKUP_KEEP_WEEKLY``).

    Returns the names of the deleted backups.
    """
    daily = settings.BACKUP_KEEP_DAILY if daily is None else daily
    weekly = settings.BACKUP_KEEP_WEEKLY if weekly is None else weekly
    storage = backup_storage()
    manifests = backups_list()
    created = {m["name"]: datetime.fromisoformat(m["created_at"]) for m in manifests}
    keep = retention_keep(created, daily=daily, weekly=weekly)
    deleted = []
    for manifest in manifests:
        if manifest["name"] not in keep:
            # The manifest first: a half-deleted backup is then an orphan dump, pruned later.
            _delete_quietly(storage, _manifest_path(manifest["name"]))
            _delete_quietly(storage, manifest["database"]["file"])
            deleted.append(manifest["name"])
    deleted += _prune_orphans(storage, known=set(created))
    if deleted:
        logger.info("pruned %s old backups", len(deleted), extra={"backups": deleted})
    return deleted


def _prune_orphans(storage: Storage, *, known: set[str]) -> list[str]:
    """Delete dumps without a manifest (crashed runs) once they are a day old."""
    deleted = []
    for filename in _listdir(storage, FOLDER)[1]:
        name = filename.removesuffix(".dump")
        if not filename.endswith(".dump") or name in known:
            continue
        try:
            age = timezone.now() - storage.get_modified_time(f"{FOLDER}/{filename}")
        except (NotImplementedError, OSError):
            continue
        if age > ORPHAN_AGE:
            _delete_quietly(storage, f"{FOLDER}/{filename}")
            deleted.append(name)
    return deleted
