"""Start what SampleMind needs, run a command, then stop what was started.

    python -m samplemind.launch [--prepare] [--port PORT] -- COMMAND...

With ``DATABASE_URL`` / ``REDIS_URL`` unset, the private PostgreSQL and Redis
under ``$SAMPLEMIND_DATA`` are started (unless already running) and their URLs
exported to COMMAND. The data folder, its static files folder and, without
``SECRET_KEY``, the secret key file are created here too: the settings only
read them. Servers a launcher started are stopped by the last
launcher on the same data folder to end (``make test`` while ``make run`` is
up leaves them to ``make run``, whichever began first). Set
URLs are checked for reachability first. ``--prepare`` migrates, makes sure
an admin exists and collects the static files; ``--port`` refuses to start
when the port is taken. Problems are reported as one line, not a traceback.
``make run`` and ``make test`` use this.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import environ

from samplemind import embedded
from samplemind.embedded import ServiceError

MANAGE = [sys.executable, str(embedded.BASE_DIR / "manage.py")]


def _say(message: str) -> None:
    print(f"samplemind: {message}", flush=True)


def _check_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    where = f"{parts.hostname or 'local socket'}:{parts.port or 5432}{parts.path}"
    try:
        conninfo = url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(conninfo, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except (psycopg.Error, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ServiceError(f"cannot connect to DATABASE_URL ({where}): {reason}") from None


def _check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.RedisError, ValueError) as exc:
        raise ServiceError(f"cannot reach REDIS_URL: {exc}") from None


def _check_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the web server binds: connections of a run just stopped (TIME_WAIT) are no
        # obstacle, only a socket listening on the port is.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ServiceError(
                f"port {port} is already in use; stop what uses it or set PORT=<another port>"
            ) from None


# variable -> (URL of the running private server, start it, check a configured URL, stop it)
SERVICES = {
    "DATABASE_URL": (
        embedded.postgres_url,
        embedded.ensure_postgres,
        _check_database,
        embedded.stop_postgres,
    ),
    "REDIS_URL": (embedded.redis_url, embedded.ensure_redis, _check_redis, embedded.stop_redis),
}


@contextlib.contextmanager
def _launchers(data: Path) -> Iterator[Path]:
    """The folder where running launchers sign in, held locked for one change."""
    folder = data / "launchers"
    with embedded.file_lock(folder / ".lock"):
        yield folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_folders(data: Path) -> None:
    """Create what the settings expect in the data folder (they never write)."""
    if not os.environ.get("SECRET_KEY"):
        embedded.ensure_secret_key(data)
    static = Path(os.environ.get("STATIC_ROOT") or data / "static").expanduser()
    static.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing


def start_services(data: Path) -> None:
    """Make DATABASE_URL and REDIS_URL point at running servers; sign this launcher in.

    A server started here is marked as started by a launcher, so that the
    last launcher out stops it (see :func:`stop_services`).
    """
    with _launchers(data) as folder:
        (folder / str(os.getpid())).touch()
        for variable, (running_url, ensure, check, _) in SERVICES.items():
            if os.environ.get(variable):
                check(os.environ[variable])
                continue
            was_running = running_url(data) is not None
            os.environ[variable] = ensure(data)
            if not was_running:
                (folder / f"started-{variable}").touch()


def stop_services(data: Path) -> None:
    """Sign this launcher out; the last one out stops the servers launchers started."""
    with _launchers(data) as folder:
        (folder / str(os.getpid())).unlink(missing_ok=True)
        others = [entry for entry in folder.iterdir() if entry.name.isdigit()]
        for entry in others:
            if not _alive(int(entry.name)):  # ended without signing out (killed)
                entry.unlink(missing_ok=True)
        if any(entry.exists() for entry in others):
            return
        for variable in reversed(SERVICES):
            marker = folder / f"started-{variable}"
            if marker.exists():
                SERVICES[variable][3](data)
                marker.unlink()


def _manage(*args: str) -> None:
    result = subprocess.run([*MANAGE, *args], check=False)  # noqa: S603 - our own manage.py
    if result.returncode:
        raise ServiceError(f"'manage.py {' '.join(args)}' failed (exit {result.returncode})")


def _run_child(command: list[str]) -> int:
    """Run COMMAND to its end, passing on a stop request, so servers stop after it."""
    child = subprocess.Popen(command)  # noqa: S603 - the command line the caller gave

    def forward(signum: int, frame: object) -> None:
        child.send_signal(signal.SIGTERM)

    # Ctrl-C already reaches the whole foreground process group, child included;
    # this process only has to outlive it. TERM and HUP are passed on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    try:
        return child.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samplemind.launch", description=__doc__)
    parser.add_argument(
        "--prepare", action="store_true", help="migrate, ensure an admin, collect static files"
    )
    parser.add_argument("--port", type=int, help="fail early when this port is taken")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")

    # What the settings read from .env counts here too (the environment still wins), so
    # a DATABASE_URL kept there is used instead of starting the embedded server.
    if (embedded.BASE_DIR / ".env").is_file():
        environ.Env.read_env(embedded.BASE_DIR / ".env")
    data = embedded.data_dir()
    os.environ["SAMPLEMIND_DATA"] = str(data)
    try:
        if args.port:
            _check_port(args.port)
        prepare_folders(data)
        start_services(data)
        if args.prepare:
            _manage("migrate", "--noinput", "-v", "0")
            _manage("ensure_admin")
            # WhiteNoise serves what is collected when DEBUG is off (make run).
            _manage("collectstatic", "--noinput", "-v", "0")
        if args.port:
            _say(
                f"starting on http://127.0.0.1:{args.port}/  "
                "(admin: /admin/, API docs: /api/docs/, health: /api/v1/health)"
            )
        return _run_child(command)
    except ServiceError as exc:
        _say(f"error: {exc}")
        return 2
    except FileNotFoundError as exc:
        _say(f"error: command not found: {exc.filename}")
        return 127
    finally:
        stop_services(data)


if __name__ == "__main__":
    sys.exit(main())
