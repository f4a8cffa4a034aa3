"""``manage.py restore NAME``: put a backup's database back and check the media.

``manage.py restore --to TIME``: recover the embedded server to a moment (point-in-time
recovery from a base backup and the archived WAL, :mod:`samplemind.ops.pitr`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from library.selectors import stored_file_names
from samplemind.management.commands.backup import verification_report
from samplemind.ops import backups, pitr
from samplemind.ops.pg import PgError, target

SHOW_AT_MOST = 20


class Command(BaseCommand):
    help = (
        "Replace the database's contents with backup NAME ('latest' for the newest; see "
        "manage.py backup --list), then check the media files against its manifest. "
        "With --to TIME instead, bring the embedded server back to that moment "
        "(point-in-time recovery)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="a backup name, or 'latest'")
        parser.add_argument(
            "--to",
            metavar="TIME",
            help="recover to this moment, e.g. '2026-12-03 10:15' (UTC unless an offset "
            "is given): transactions committed up to it are kept, later ones undone",
        )
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
        if (options["name"] is None) == (options["to"] is None):
            raise CommandError("give a backup NAME or --to TIME (one of them)")
        if options["to"] is not None:
            self._recover(_moment(options["to"]), interactive=options["interactive"])
            self._orphans(remove=options["remove_orphans"])
            return
        try:
            manifest = backups.backup_get(name=options["name"])
            database = target().dbname
            if options["interactive"]:
                self._confirm(
                    f"This replaces the contents of database {database!r} with backup "
                    f"{manifest['name']} of {manifest['created_at'][:19]} UTC."
                )
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

    def _recover(self, target: datetime, *, interactive: bool) -> None:
        when = f"{target:%Y-%m-%d %H:%M:%S %Z}"
        if interactive:
            self._confirm(
                f"This stops the database server and brings every database on it back to "
                f"{when}; everything committed later is undone."
            )
        try:
            result = pitr.recover_to(target=target)
        except (backups.BackupError, PgError) as exc:
            raise CommandError(str(exc)) from None
        last = result.last_transaction
        self.stdout.write(
            f"recovered to {when} from base backup {result.basebackup}"
            + (f"; last transaction kept: {last:%Y-%m-%d %H:%M:%S.%f %Z}" if last else "")
            + f" ({result.seconds} s)"
        )
        self.stdout.write(
            f"the data folder as it was is kept in {result.previous_data} (delete it when "
            "satisfied); take a base backup of the new timeline now: manage.py backup --base"
        )

    def _confirm(self, message: str) -> None:
        try:
            answer = input(f"{message}\nType 'yes' to continue: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            raise CommandError("restore cancelled (--noinput skips this question)")

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


def _moment(text: str) -> datetime:
    """``2026-12-03 10:15`` (the site's time zone, UTC) or an ISO 8601 time with offset."""
    try:
        moment = parse_datetime(text.strip())
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--to {text!r} is not a time such as '2026-12-03 10:15'")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
