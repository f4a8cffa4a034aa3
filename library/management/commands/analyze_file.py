"""Analyse audio files and print their descriptors, without storing anything.

    python manage.py analyze_file PATH... [--json] [--embedding]

With ``--json``, one JSON object per file per line on stdout (``path`` first,
then every descriptor; ``embedding`` only with ``--embedding``). A file that
cannot be analysed gives ``{"path": ..., "error": ...}``; the command then
exits non-zero once every file has been tried. Without ``--json``, a table.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from library.analysis import AudioDecodeError, analyze_file

COLUMNS = (
    ("duration", "dur s", 7),
    ("bpm", "bpm", 7),
    ("bpm_confidence", "conf", 5),
    ("key", "key", 4),
    ("mode", "mode", 6),
    ("loudness_lufs", "LUFS", 7),
    ("peak_db", "peak", 6),
    ("is_loop", "loop", 5),
    ("category", "category", 11),
    ("seconds", "time s", 7),
)


def analyse(path: str, *, embedding: bool) -> dict:
    """Descriptors of ``path`` with ``path`` first, or ``{"path", "error"}``."""
    try:
        return {"path": path, **analyze_file(path, embedding=embedding)}
    except AudioDecodeError as exc:
        return {"path": path, "error": str(exc)}
    except FileNotFoundError:
        return {"path": path, "error": "No such file"}
    except IsADirectoryError:
        return {"path": path, "error": "Is a folder, not a file"}
    except OSError as exc:
        return {"path": path, "error": f"Cannot read the file ({exc.strerror or exc})"}
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return {"path": path, "error": f"Analysis failed ({type(exc).__name__}: {exc})"}


def _cell(value, width: int) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:.2f}" if abs(value) < 1000 else f"{value:.0f}"
    else:
        text = str(value)
    return text[:width].rjust(width)


class Command(BaseCommand):
    help = "Analyse audio files and print their descriptors (nothing is stored)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="audio files to analyse")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--embedding", action="store_true", help="include the timbre vector")

    def handle(self, *args, **options) -> None:
        failed = 0
        as_json = options["json"]
        if not as_json:
            width = max(12, min(40, max(len(Path(p).name) for p in options["paths"])))
            header = "file".ljust(width) + " " + " ".join(t.rjust(w) for _, t, w in COLUMNS)
            self.stdout.write(header)
        for path in options["paths"]:
            result = analyse(path, embedding=options["embedding"])
            failed += "error" in result
            if as_json:
                self.stdout.write(json.dumps(result, allow_nan=False))
            elif "error" in result:
                self.stdout.write(
                    f"{Path(path).name[:width].ljust(width)} error: {result['error']}"
                )
            else:
                cells = " ".join(_cell(result.get(key), w) for key, _, w in COLUMNS)
                self.stdout.write(f"{Path(path).name[:width].ljust(width)} {cells}")
        if failed:
            total = len(options["paths"])
            raise CommandError(f"{failed} of {total} file(s) could not be analysed")
