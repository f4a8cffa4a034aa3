"""``manage.py backup``: dump the database and list the media, or verify a backup."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from samplemind.ops import backups, pitr
from samplemind.ops.pg import PgError
from samplemind.text import human_bytes


def verification_report(command: BaseCommand, result: backups.RestoreResult) -> None:
    """Print the tables whose row counts differ, then one summary line."""
    for check in result.mismatched:
        command.stdout.write(
            f"  {check.table}: {check.expected} rows in the backup, "
            f"{'missing' if check.actual is None else check.actual} after restoring"
        )


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump) and a manifest of the media files into the backup "
        "storage under backups/, then apply the retention. --verify restores a backup into "
        "a scratch database and compares row counts; --base takes a base backup of the whole "
        "cluster for point-in-time recovery (restore --to); --list shows both kinds."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--verify",
            nargs="?",
            const="",
            metavar="NAME",
            help="verify backup NAME (or 'latest'); without NAME, make a backup and verify it",
        )
        group.add_argument("--list", action="store_true", help="list the backups, newest first")
        group.add_argument(
            "--base",
            action="store_true",
            help="take a base backup (pg_basebackup) for point-in-time recovery instead",
        )
        parser.add_argument(
            "--no-prune", action="store_true", help="keep backups outside the retention"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["list"]:
                self._list()
                return
            if options["base"]:
                self._basebackup(prune=not options["no_prune"])
                return
            name = options["verify"]
            if not name:
                name = self._backup(prune=not options["no_prune"])
            if options["verify"] is not None:
                self._verify(name)
        except (backups.BackupError, PgError) as exc:
            raise CommandError(str(exc)) from None

    def _backup(self, *, prune: bool) -> str:
        manifest = backups.backup_create()
        database, media = manifest["database"], manifest["media"]
        self.stdout.write(
            f"backup {manifest['name']}: database {database['name']} "
            f"{human_bytes(database['size'])} ({len(database['tables'])} tables, "
            f"{sum(database['tables'].values())} rows), media manifest {media['count']} files "
            f"({human_bytes(media['bytes'])}), {manifest['seconds']} s"
        )
        if prune and (deleted := backups.backups_prune()):
            self.stdout.write(f"deleted {len(deleted)} old backups: {', '.join(deleted)}")
        return manifest["name"]

    def _basebackup(self, *, prune: bool) -> None:
        manifest = pitr.basebackup_create()
        size = sum(entry["size"] for entry in manifest["files"].values())
        self.stdout.write(
            f"base backup {manifest['name']}: {human_bytes(size)}, recovery possible from "
            f"{manifest['consistent_at'][:19].replace('T', ' ')} UTC, {manifest['seconds']} s"
        )
        if prune and (deleted := pitr.basebackups_prune()):
            self.stdout.write(f"deleted {len(deleted)} old base backups: {', '.join(deleted)}")

    def _verify(self, name: str) -> None:
        result = backups.backup_verify(name=name)
        verification_report(self, result)
        if result.mismatched:
            raise CommandError(
                f"backup {result.name} does not restore faithfully: "
                f"{len(result.mismatched)} of {len(result.tables)} tables differ"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"verified {result.name}: {len(result.tables)} tables, {result.rows} rows, "
                f"every row count matches ({result.seconds} s)"
            )
        )

    def _list(self) -> None:
        found = backups.backups_list()
        bases = pitr.basebackups_list()
        if not found and not bases:
            self.stdout.write("no backups yet")
            return
        if bases:
            self.stdout.write(f"{'BASE BACKUP':<26} {'CONSISTENT FROM (UTC)':<22} {'SIZE':>10}")
            for manifest in bases:
                size = sum(entry["size"] for entry in manifest["files"].values())
                consistent = manifest["consistent_at"][:19].replace("T", " ")
                size_text = human_bytes(size)
                self.stdout.write(f"{manifest['name']:<26} {consistent:<22} {size_text:>10}")
        if not found:
            return
        self.stdout.write(
            f"{'NAME':<26} {'CREATED (UTC)':<20} {'DATABASE':>10} {'MEDIA FILES':>12}"
        )
        for manifest in found:
            created = manifest["created_at"][:19].replace("T", " ")
            self.stdout.write(
                f"{manifest['name']:<26} {created:<20} "
                f"{human_bytes(manifest['database']['size']):>10} {manifest['media']['count']:>12}"
            )
