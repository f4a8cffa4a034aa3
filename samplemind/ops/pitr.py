"""Point-in-time recovery: base backups, WAL retention, and recovery to a moment.

PostgreSQL archives every completed WAL file (the embedded server to
``$SAMPLEMIND_DATA/wal-archive``, see :mod:`samplemind.embedded`; the compose
``db`` service to its ``walarchive`` volume). A *base backup* is a copy of the
whole cluster taken with ``pg_basebackup`` (tar, gzip, with the WAL it needs),
kept in the backup storage under ``basebackups/``:

- ``NAME/base.tar.gz``, ``NAME/pg_wal.tar.gz``, ``NAME/backup_manifest``;
- ``NAME.json``, written last: when the copy became consistent (the earliest
  moment it can be recovered to), the cluster's system identifier, timeline,
  first WAL file and each file's size and SHA-256.

Recovering to a moment T (:func:`recover_to`, the embedded server only) follows
PostgreSQL's procedure: archive the current WAL, stop the server, set the data
folder aside (kept as ``pgdata.before-restore-*``), unpack the newest base
backup that was consistent before T into a fresh one, add ``recovery.signal``
with ``restore_command`` and ``recovery_target_time``, start, and wait for the
server to promote itself. The server then runs on a new timeline and goes on
archiving. Base backups older than the newest ``BASEBACKUP_KEEP`` are deleted,
and with them the archived WAL only they needed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import connections
from django.utils import timezone
from psycopg import sql

from samplemind import embedded
from samplemind.ops import pg
from samplemind.ops.backups import CHUNK, BackupError, backup_storage

logger = logging.getLogger(__name__)

FOLDER = "basebackups"
MANIFEST_FORMAT = 1
FILES = ("base.tar.gz", "pg_wal.tar.gz", "backup_manifest")
# Settings recover_to adds to postgresql.auto.conf and takes away after promotion.
RECOVERY_SETTINGS = ("restore_command", "recovery_target_time", "recovery_target_action")


@dataclass
class RecoveryResult:
    """What :func:`recover_to` did: the base backup used and where the old data went."""

    basebackup: str
    target: datetime
    last_transaction: datetime | None
    previous_data: Path
    seconds: float


# --------------------------------------------------------------------------- base backups


def _manifest_path(name: str) -> str:
    return f"{FOLDER}/{name}.json"


def basebackups_list(storage: Storage | None = None) -> list[dict[str, Any]]:
    """Manifests of every complete base backup, newest first."""
    storage = storage or backup_storage()
    try:
        filenames = storage.listdir(FOLDER)[1]
    except FileNotFoundError:
        return []
    found = []
    for filename in filenames:
        if not filename.endswith(".json"):
            continue
        try:
            with storage.open(f"{FOLDER}/{filename}", "rb") as handle:
                manifest = json.loads(handle.read())
        except (OSError, ValueError) as exc:
            logger.warning("skipping unreadable base backup manifest %s: %s", filename, exc)
            continue
        if manifest.get("format") == MANIFEST_FORMAT:
            found.append(manifest)
    return sorted(found, key=lambda manifest: manifest["consistent_at"], reverse=True)


def _wal_file_name(timeline: int, lsn: str, segment_size: int) -> str:
    """The WAL file holding ``lsn`` (``X/Y``) on ``timeline``, as PostgreSQL names it."""
    high, low = (int(part, 16) for part in lsn.split("/"))
    segment = ((high << 32) | low) // segment_size
    per_id = 0x100000000 // segment_size
    return f"{timeline:08X}{segment // per_id:08X}{segment % per_id:08X}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def basebackup_create(*, now: datetime | None = None) -> dict[str, Any]:
    """Copy the cluster with ``pg_basebackup`` into the backup storage; return the manifest."""
    started = time.monotonic()
    now = now or timezone.now()
    storage = backup_storage()
    where = pg.target()
    name = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"
    try:
        with pg.connect(where, autocommit=True) as conn:
            tool = pg.find_tool("pg_basebackup", min_major=pg.server_major(conn))
            (system_id,) = conn.execute(
                "SELECT system_identifier::text FROM pg_control_system()"
            ).fetchone()
            (segment_size,) = conn.execute(
                "SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'"
            ).fetchone()
            server_version = conn.info.parameter_status("server_version")
            with tempfile.TemporaryDirectory(prefix="samplemind-basebackup-") as tmp:
                pg.run_tool(
                    tool,
                    [
                        f"--pgdata={tmp}",
                        "--format=tar",
                        "--gzip",
                        "--wal-method=stream",
                        "--checkpoint=fast",
                        f"--label=samplemind {name}",
                        "--no-password",
                        f"--dbname={where.conninfo()}",
                    ],
                    where=where,
                )
                # Recovery can stop no earlier than the end of the copy: take the time after.
                (consistent_at,) = conn.execute("SELECT now()").fetchone()
                wal_range = json.loads((Path(tmp) / "backup_manifest").read_text())["WAL-Ranges"]
                files = {}
                for filename in FILES:
                    path = Path(tmp) / filename
                    with open(path, "rb") as handle:
                        storage.save(f"{FOLDER}/{name}/{filename}", File(handle, name=filename))
                    files[filename] = {"size": path.stat().st_size, "sha256": _sha256(path)}
        first = wal_range[0]
        manifest = {
            "format": MANIFEST_FORMAT,
            "name": name,
            "created_at": now.isoformat(),
            "consistent_at": consistent_at.isoformat(),
            "server_version": server_version,
            "system_identifier": system_id,
            "timeline": first["Timeline"],
            "start_wal": _wal_file_name(first["Timeline"], first["Start-LSN"], segment_size),
            "files": files,
            "seconds": round(time.monotonic() - started, 2),
        }
        storage.save(_manifest_path(name), ContentFile(json.dumps(manifest, indent=1).encode()))
    except (pg.PgError, psycopg.Error, OSError) as exc:
        _delete_quietly(storage, name)
        raise BackupError(f"base backup failed: {pg.first_line(exc)}") from None
    logger.info("base backup %s stored", name, extra={"basebackup": name})
    return manifest


def _delete_quietly(storage: Storage, name: str) -> None:
    for path in [_manifest_path(name), *(f"{FOLDER}/{name}/{f}" for f in FILES)]:
        try:
            if storage.exists(path):
                storage.delete(path)
        except OSError:
            logger.warning("could not delete %s from the backup storage", path)


def basebackups_prune(*, keep: int | None = None) -> list[str]:
    """Keep the newest ``keep`` base backups (``BASEBACKUP_KEEP``) and the WAL they need.

    Archived WAL older than the oldest kept base backup's first WAL file is
    deleted with ``pg_archivecleanup``; recovery reaches back to that backup.
    Returns the names of the deleted base backups.
    """
    keep = settings.BASEBACKUP_KEEP if keep is None else keep
    storage = backup_storage()
    found = basebackups_list(storage)
    kept, deleted = found[: max(keep, 1)], []
    for manifest in found[len(kept) :]:
        _delete_quietly(storage, manifest["name"])
        deleted.append(manifest["name"])
    archive = settings.WAL_ARCHIVE_DIR
    if kept and archive and Path(archive).is_dir():
        oldest = min(kept, key=lambda manifest: manifest["consistent_at"])
        _archive_cleanup(Path(archive), oldest["start_wal"])
    if deleted:
        logger.info("pruned %s old base backups", len(deleted), extra={"basebackups": deleted})
    return deleted


def _archive_cleanup(archive: Path, oldest_kept: str) -> None:
    with pg.connect(pg.target(), autocommit=True) as conn:
        tool = pg.find_tool("pg_archivecleanup", min_major=pg.server_major(conn))
    try:
        subprocess.run(  # noqa: S603 - a located PostgreSQL program, our own arguments
            [str(tool), "--clean-backup-history", "-x", ".gz", str(archive), oldest_kept],
            capture_output=True,
            text=True,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"pg_archivecleanup failed: {exc.stderr.strip()[:300]}") from None


# --------------------------------------------------------------------------- recovery


def recover_to(
    *, target: datetime, data: Path | None = None, timeout: float = 3600
) -> RecoveryResult:
    """Bring the embedded server's whole cluster back to how it was at ``target``.

    Every transaction committed up to ``target`` is kept, none after it. The
    data folder as it was is kept beside the new one; if recovery fails it is
    put back and started again, and the error says why.
    """
    started = time.monotonic()
    data = data or embedded.data_dir()
    archive = embedded.wal_archive_dir(data)
    pgdata = data / "pgdata"
    if not pg.uses_embedded_server():
        raise BackupError(
            "restore --to works on the embedded server; for another server follow "
            "README's point-in-time recovery procedure"
        )
    if archive is None:
        raise BackupError("WAL archiving is off (WAL_ARCHIVE_DIR=off): no moment to recover to")
    if target > timezone.now():
        raise BackupError(f"{target:%Y-%m-%d %H:%M:%S %Z} is in the future")
    where = pg.target()
    with pg.connect(where, autocommit=True) as conn:
        system_id = conn.execute(
            "SELECT system_identifier::text FROM pg_control_system()"
        ).fetchone()[0]
        base = _choose_basebackup(target, system_id)
        _archive_current_wal(conn)
    connections.close_all()
    with tempfile.TemporaryDirectory(prefix="samplemind-pitr-") as tmp:
        files = _fetch_basebackup(base, Path(tmp))
        socket_dir = _socket_dir(pgdata)
        embedded.stop_postgres(data)
        previous = data / f"pgdata.before-restore-{timezone.now():%Y%m%d-%H%M%S}"
        owner = pgdata.stat()
        pgdata.rename(previous)
        try:
            _unpack(files, pgdata, owner)
            _configure_recovery(pgdata, archive, target, owner)
            last = _start_and_promote(pgdata, socket_dir, where, timeout)
        except BaseException:
            _put_back(data, pgdata, previous, socket_dir)
            raise
    logger.warning("database recovered to %s from base backup %s", target.isoformat(), base["name"])
    return RecoveryResult(
        base["name"], target, last, previous, round(time.monotonic() - started, 2)
    )


def _choose_basebackup(target: datetime, system_id: str) -> dict[str, Any]:
    mine = [m for m in basebackups_list() if m["system_identifier"] == system_id]
    usable = [m for m in mine if datetime.fromisoformat(m["consistent_at"]) <= target]
    if usable:
        return usable[0]
    if not mine:
        raise BackupError("there is no base backup of this server yet (manage.py backup --base)")
    oldest = mine[-1]["consistent_at"][:19].replace("T", " ")
    raise BackupError(
        f"no base backup was finished by {target:%Y-%m-%d %H:%M:%S}; recovery reaches back "
        f"to the oldest one, {oldest} UTC"
    )


def _archive_current_wal(conn: psycopg.Connection, timeout: float = 60) -> None:
    """Close the current WAL file and wait until it is archived.

    A transaction committed now marks the end: recovery to a quiet moment
    finds a commit after it instead of running out of WAL before the target.
    """
    if conn.execute("SHOW archive_mode").fetchone()[0] == "off":
        raise BackupError("the server does not archive its WAL (archive_mode is off)")
    conn.execute("SELECT pg_current_xact_id()")
    (wal,) = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        archived, failed = conn.execute(
            "SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver"
        ).fetchone()
        if archived and archived[:24] >= wal:
            return
        time.sleep(0.2)
    raise BackupError(
        f"WAL file {wal} was not archived within {timeout:.0f} s"
        + (f" (archive_command failed on {failed}; see the server's log)" if failed else "")
    )


def _fetch_basebackup(manifest: dict[str, Any], folder: Path) -> dict[str, Path]:
    storage = backup_storage()
    files = {}
    for filename, expected in manifest["files"].items():
        target = folder / filename
        try:
            with storage.open(f"{FOLDER}/{manifest['name']}/{filename}", "rb") as src:
                with open(target, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
        except FileNotFoundError:
            raise BackupError(f"base backup {manifest['name']} has lost its {filename}") from None
        if _sha256(target) != expected["sha256"]:
            raise BackupError(f"base backup {manifest['name']} is damaged: {filename}")
        files[filename] = target
    return files


def _socket_dir(pgdata: Path) -> str:
    return (pgdata / "postmaster.pid").read_text().splitlines()[4].strip()


def _unpack(files: dict[str, Path], pgdata: Path, owner: os.stat_result) -> None:
    pgdata.mkdir(mode=0o700)
    with tarfile.open(files["base.tar.gz"]) as tar:
        tar.extractall(pgdata, filter="data")
    with tarfile.open(files["pg_wal.tar.gz"]) as tar:
        tar.extractall(pgdata / "pg_wal", filter="data")
    shutil.copy(files["backup_manifest"], pgdata / "backup_manifest")
    # The copy carries the old server's socket lock: its process id may belong to another
    # process by now, and PostgreSQL would then refuse to start.
    for stale in pgdata.glob(".s.PGSQL.*"):
        stale.unlink()
    for path in [pgdata, *pgdata.rglob("*")]:
        os.lchown(path, owner.st_uid, owner.st_gid)
    for path in pgdata.rglob("*"):  # PostgreSQL refuses group or world access
        path.chmod(0o700 if path.is_dir() else 0o600)


def _configure_recovery(
    pgdata: Path, archive: Path, target: datetime, owner: os.stat_result
) -> None:
    settings_lines = {
        "restore_command": embedded.wal_restore_command(archive),
        "recovery_target_time": target.isoformat(sep=" "),
        "recovery_target_action": "promote",
    }
    with open(pgdata / "postgresql.auto.conf", "a") as handle:
        for key, value in settings_lines.items():
            handle.write(f"{key} = '{value.replace(chr(39), chr(39) * 2)}'\n")
    signal = pgdata / "recovery.signal"
    signal.touch()
    os.chown(signal, owner.st_uid, owner.st_gid)


def _pg_ctl_start(pgdata: Path, socket_dir: str, timeout: float) -> None:
    # As pgserver starts it: unix socket only, in the folder the URLs already name.
    args = ["-w", "-t", str(int(timeout)), "-o", '-h ""', "-o", f"-k {socket_dir}"]
    embedded.pg_ctl(pgdata, [*args, "-l", str(pgdata / "log"), "start"], timeout=timeout + 30)


def _start_and_promote(
    pgdata: Path, socket_dir: str, where: pg.Target, timeout: float
) -> datetime | None:
    """Start in recovery, wait for promotion; return the last replayed commit's time."""
    try:
        _pg_ctl_start(pgdata, socket_dir, timeout)
    except subprocess.SubprocessError:
        raise BackupError(f"recovery failed: {_last_fatal(pgdata / 'log')}") from None
    deadline = time.monotonic() + timeout
    while True:
        try:
            with pg.connect(where, autocommit=True) as conn:
                in_recovery, last = conn.execute(
                    "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()"
                ).fetchone()
                if not in_recovery:
                    for name in RECOVERY_SETTINGS:
                        conn.execute(sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)))
                    conn.execute("SELECT pg_reload_conf()")
                    return last
        except pg.PgError:
            if not _postmaster_alive(pgdata):
                raise BackupError(f"recovery failed: {_last_fatal(pgdata / 'log')}") from None
        if time.monotonic() > deadline:
            raise BackupError(f"the server did not finish recovering within {timeout:.0f} s")
        time.sleep(0.2)


def _postmaster_alive(pgdata: Path) -> bool:
    """Whether a server runs on ``pgdata``, in recovery or not."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def _last_fatal(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "the server did not start"
    for line in reversed(lines):
        if "FATAL" in line or "PANIC" in line:
            return line.split("FATAL:", 1)[-1].strip()[:300]
    return (lines[-1].strip()[:300] if lines else "") or "the server did not start"


def _put_back(data: Path, pgdata: Path, previous: Path, socket_dir: str) -> None:
    """Recovery failed: stop what runs, keep the attempt aside, restart the old data."""
    if _postmaster_alive(pgdata):  # still recovering: its status is not "ready" yet
        with contextlib.suppress(subprocess.SubprocessError):
            embedded.pg_ctl(pgdata, ["-w", "-m", "immediate", "stop"], timeout=60)
    if pgdata.exists():
        pgdata.rename(data / f"pgdata.failed-restore-{timezone.now():%Y%m%d-%H%M%S}")
    previous.rename(pgdata)
    try:
        _pg_ctl_start(pgdata, socket_dir, 600)
    except subprocess.SubprocessError:
        logger.exception("the previous database did not start again after a failed recovery")
