"""``manage.py db_report``: sizes, index usage, unused indexes, bloat, slow statements."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection

from samplemind.ops import dbreport
from samplemind.text import human_bytes


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.endswith("_bytes"):
        return human_bytes(value)
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ", timespec="seconds")[:19]
    return str(value)


class Command(BaseCommand):
    help = (
        "Print the database's table sizes, index usage, unused indexes, estimated bloat and "
        "slowest statements (pg_stat_statements where available)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=10, help="rows per section (10)")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with connection.cursor() as cursor:
                data = dbreport.report(cursor, limit=max(options["limit"], 1))
        except DatabaseError as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"cannot read the database statistics: {message}") from None
        if options["json"]:
            self.stdout.write(json.dumps(data, default=str, indent=1))
            return
        self._print(data)

    def _print(self, data: dict[str, Any]) -> None:
        info = data["overview"]
        self.stdout.write(
            f"database {info['database']} (PostgreSQL {info['server_version']}): "
            f"{human_bytes(info['size_bytes'])}, buffer cache hit ratio "
            f"{_cell('', info['cache_hit_pct'])}%, statistics since "
            f"{_cell('', info['stats_reset']) if info['stats_reset'] else 'the server started'}"
        )
        self._table("Largest tables", data["tables"])
        self._table("Most used indexes", data["indexes"])
        self._table(
            "Unused indexes (never scanned, enforcing nothing)",
            [{k: v for k, v in row.items() if k != "definition"} for row in data["unused_indexes"]],
            empty="none",
        )
        self._table("Estimated table bloat", data["bloat"])
        statements = data["statements"]
        if statements["source"] == "pg_stat_statements":
            self._table("Slowest statements (pg_stat_statements, by mean time)", statements["rows"])
        else:
            self.stdout.write(f"\nSlowest statements: {statements['note']}.")
            self._table(
                "Statements running longest now (pg_stat_activity)",
                statements["rows"],
                empty="none",
            )

    def _table(self, title: str, rows: list[dict[str, Any]], *, empty: str = "no data") -> None:
        self.stdout.write(f"\n{title}")
        if not rows:
            self.stdout.write(f"  {empty}")
            return
        keys = list(rows[0])
        cells = [[_cell(key, row[key]) for key in keys] for row in rows]
        widths = [max(len(key), *(len(line[i]) for line in cells)) for i, key in enumerate(keys)]
        heads = [key.removesuffix("_bytes").replace("_", " ").upper() for key in keys]
        widths = [max(w, len(h)) for w, h in zip(widths, heads, strict=True)]
        self.stdout.write("  " + "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)))
        for line in cells:
            self.stdout.write(
                "  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
            )
