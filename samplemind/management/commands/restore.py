"""``manage.py restore NAME``: put a backup's database back and check the media."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from library.selectors import stored_file_names
from samplemind.management.commands.backup import verification_report
from samplemind.ops import backups
from samplemind.ops.pg import PgError, target

SHOW_AT_MOST = 20


class Command(BaseCommand):
    help = (
        "Replace the database's contents with backup NAME ('latest' for the newest; see "
        "manage.py backup --list), then check the media files against its manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="a backup name, or 'latest'")
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="do not ask for confirmation",
        )
        parser.add_argument(
            "--skip-media-check",
            action="store_true",
            help="do not read the media files back (faster on large libraries)",
        )
        parser.add_argument(
            "--remove-orphans",
            action="store_true",
            help="delete sample files and previews that no restored row names "
            "(stop uploads first: a file being uploaded has no row yet)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backups.backup_get(name=options["name"])
            database = target().dbname
            if options["interactive"]:
                try:
                    answer = input(
                        f"This replaces the contents of database {database!r} with backup "
                        f"{manifest['name']} of {manifest['created_at'][:19]} UTC.\n"
                        "Type 'yes' to continue: "
                    )
                except EOFError:
                    answer = ""
                if answer.strip().lower() != "yes":
                    raise CommandError("restore cancelled (--noinput skips this question)")
            result = backups.backup_restore(
                name=manifest["name"], check_media=not options["skip_media_check"]
            )
        except (backups.BackupError, PgError) as exc:
            raise CommandError(str(exc)) from None

        verification_report(self, result)
        self.stdout.write(
            f"restored {result.name} into {database}: {len(result.tables)} tables, "
            f"{result.rows} rows ({result.seconds} s)"
        )
        if result.mismatched:
            raise CommandError(f"{len(result.mismatched)} tables differ from the backup's counts")
        self._orphans(remove=options["remove_orphans"])
        media = result.media
        if media is None:
            return
        for label, paths in (("missing", media.missing), ("changed", media.changed)):
            for path in paths[:SHOW_AT_MOST]:
                self.stdout.write(f"  media {label}: {path}")
            if len(paths) > SHOW_AT_MOST:
                self.stdout.write(f"  ... and {len(paths) - SHOW_AT_MOST} more {label}")
        if not media.ok:
            raise CommandError(
                f"database restored, but media differ from the manifest: "
                f"{len(media.missing)} missing, {len(media.changed)} changed "
                f"of {media.checked} files"
            )
        self.stdout.write(
            self.style.SUCCESS(f"media: all {media.checked} files present and unchanged")
        )

    def _orphans(self, *, remove: bool) -> None:
        """Report (or delete) the files on disk that no restored row names."""
        orphans = backups.media_orphans(stored_file_names())
        if not orphans:
            return
        if remove:
            removed = backups.media_orphans_remove(orphans)
            self.stdout.write(f"media: removed {removed} orphaned files (no row names them)")
            return
        for path in orphans[:SHOW_AT_MOST]:
            self.stdout.write(f"  media orphan: {path}")
        if len(orphans) > SHOW_AT_MOST:
            self.stdout.write(f"  ... and {len(orphans) - SHOW_AT_MOST} more orphans")
        self.stdout.write(
            f"media: {len(orphans)} files have no row (newer than the backup); "
            "--remove-orphans deletes them"
        )
