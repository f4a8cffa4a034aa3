"""Importing the settings starts no server and writes no file; the launcher does that."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
from django.conf import settings

from samplemind import embedded, launch


def processes_using(folder: Path) -> list[str]:
    found = []
    for process in psutil.process_iter(attrs=["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(folder) in cmdline and "pytest" not in cmdline:
            found.append(cmdline)
    return found


def test_importing_the_settings_starts_nothing_and_writes_nothing(tmp_path):
    home, data, tmp = tmp_path / "home", tmp_path / "data", tmp_path / "tmp"
    for folder in (home, data, tmp):
        folder.mkdir()
    # No DATABASE_URL, REDIS_URL or SECRET_KEY: what settings used to fill in by starting
    # the private servers and writing a key file.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "SAMPLEMIND_DATA": str(data),
        "PYTHONDONTWRITEBYTECODE": "1",
    }

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import samplemind.settings as s; print(s.DATABASES['default']['HOST']); "
            "print(s.REDIS_URL); print(repr(s.SECRET_KEY))",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert [*home.iterdir(), *data.iterdir(), *tmp.iterdir()] == []
    assert processes_using(data) == []
    # The settings name where the private servers listen once the launcher starts them.
    host, redis_url, secret_key = result.stdout.split()
    assert host == str(data / "pgdata")
    assert redis_url == embedded.expected_redis_url(data)
    assert redis_url.endswith("/redis.sock")
    assert secret_key == "''"


def test_the_launcher_creates_what_the_settings_read(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("STATIC_ROOT", raising=False)

    launch.prepare_folders(tmp_path)

    key = tmp_path / "secret_key"
    assert len(key.read_text()) >= 50
    assert key.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "static").is_dir()
    first = key.read_text()
    launch.prepare_folders(tmp_path)  # a second launcher keeps the key
    assert key.read_text() == first


def test_middleware_and_beat_schedule_are_declared_once():
    source = (Path(settings.BASE_DIR) / "samplemind" / "settings.py").read_text()
    for name in ("MIDDLEWARE", "CELERY_BEAT_SCHEDULE"):
        assert source.count(f"\n{name} = ") == 1, name
        assert f"{name} +=" not in source and f"{name}[" not in source, name
    assert settings.MIDDLEWARE[-1] == "billing.middleware.ApiUsageMiddleware"
    assert {"backup", "basebackup", "billing-reconcile", "search-prune-terms"} <= set(
        settings.CELERY_BEAT_SCHEDULE
    )
