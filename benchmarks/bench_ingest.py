"""Ingest: importing 600 one-shots with two worker processes, against analysing them in one.

600 short one-shots of twelve kinds are synthesised (``training.synth.ONE_SHOTS``,
seed 14) and written as 16-bit WAV into a temporary folder. The baseline, in
this process: ``library.analysis.analyze_file`` on each of them, one after
another (imports and warm-up excluded). Then, on a throw-away database
(``bench_ingest_<pid>``, dropped at the end) and a Redis database of its own
(flushed before and after), with a temporary media folder: a real
``celery worker`` with two pool processes on the analysis queue, started and
answering before the clock starts, and
``manage.py import_samples DIR --owner EMAIL --wait`` timed from start to
exit (copying, hashing, rows, queueing, analysis, previews, peaks, indexing).

Goal: the import takes <= 1.25x the one-process analysis time.

Where the import's own time goes, measured beside it: the command's start-up
(``import_samples --help``: Python, Django and the analyser's imports), and
the near-duplicate rule alone in this process (each file fingerprinted and
compared with the nearest earlier sketches, ``organise.matching.SketchIndex``),
work the import does file by file before a worker sees the file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

FILES = int(os.environ.get("BENCH_INGEST_FILES", "600"))
SEED = 14
GOAL_RATIO = 1.25
REDIS_DB = 13  # the broker and cache of this benchmark only
OWNER = "bench-ingest@example.com"


def _write_one_shots(folder: Path) -> list[Path]:
    import soundfile as sf

    from library.analysis.training.synth import ONE_SHOTS, SR

    rng = np.random.default_rng(SEED)
    kinds = list(ONE_SHOTS)
    paths = []
    for i in range(FILES):
        kind = kinds[i % len(kinds)]
        audio = np.asarray(ONE_SHOTS[kind](rng), dtype=np.float64)
        audio = 0.9 * audio / max(float(np.max(np.abs(audio))), 1e-9)
        path = folder / kind / f"{kind}_{i:04d}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, audio, SR, subtype="PCM_16")
        paths.append(path)
    return paths


def _analyse_here(paths: list[Path]) -> float:
    from library.analysis import analyze_file

    analyze_file(paths[0])  # imports, model load, caches
    started = time.perf_counter()
    for path in paths:
        analyze_file(path)
    return time.perf_counter() - started


def _near_duplicate_rule_here(paths: list[Path]) -> float:
    from organise.audio import fingerprint_file
    from organise.matching import SketchIndex

    index = SketchIndex()
    started = time.perf_counter()
    for key, path in enumerate(paths):
        print_ = fingerprint_file(path)
        index.nearest_duplicate(print_)
        index.add(key, print_)
    return time.perf_counter() - started


def _startup(env: dict) -> float:
    from samplemind.settings import BASE_DIR

    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, str(BASE_DIR / "manage.py"), "import_samples", "--help"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def _import_with_worker(folder: Path, media: Path) -> tuple[float, float, str]:
    import redis
    from celery import Celery
    from django.conf import settings
    from django.db import connection

    from accounts.models import User
    from samplemind.embedded import database_url, redis_url_with_db
    from samplemind.settings import BASE_DIR, celery_url

    User.objects.create_user(email=OWNER, password=uuid.uuid4().hex)
    redis_url = redis_url_with_db(settings.REDIS_URL, REDIS_DB)
    redis.Redis.from_url(redis_url).flushdb()
    broker = celery_url(redis_url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "MEDIA_ROOT": str(media),
    }
    name = f"bench-ingest-{uuid.uuid4().hex[:8]}@{os.uname().nodename}"
    command = [sys.executable, "-m", "celery", "-A", "samplemind", "worker", "-Q", "analysis"]
    command += ["--concurrency", "2", "-l", "warning", "-n", name]
    command += ["--without-gossip", "--without-mingle"]
    log = open(media / "worker.log", "w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)  # noqa: S603
    app = Celery(broker=broker)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the worker did not start:\n{(media / 'worker.log').read_text()}"
                )
        startup = _startup(env)
        started = time.perf_counter()
        manage = [sys.executable, str(BASE_DIR / "manage.py"), "import_samples", str(folder)]
        result = subprocess.run(  # noqa: S603 - our own command line
            [*manage, "--owner", OWNER, "--wait", "-v", "0"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=30)
        worker.kill()  # does nothing once it has exited
        worker.wait()
        log.close()
        redis.Redis.from_url(redis_url).flushdb()
    summary = next(
        (line for line in result.stdout.splitlines() if line.startswith("Analysed:")), ""
    )
    return elapsed, startup, summary


def run() -> list[str]:
    from django.db import connection

    workdir = Path(tempfile.mkdtemp(prefix="samplemind-bench-ingest-"))
    try:
        folder, media = workdir / "one-shots", workdir / "media"
        folder.mkdir()
        media.mkdir()
        paths = _write_one_shots(folder)
        baseline = _analyse_here(paths)
        near_duplicates = _near_duplicate_rule_here(paths)
        settings_dict = connection.settings_dict
        old_name = settings_dict["NAME"]
        settings_dict.setdefault("TEST", {})["NAME"] = f"bench_ingest_{os.getpid()}"
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            elapsed, startup, summary = _import_with_worker(folder, media)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = elapsed / baseline
    verdict = "ok" if ratio <= GOAL_RATIO else "MISSED"
    return [
        f"{len(paths)} one-shots",
        f"analyse in one process (baseline):   {baseline:6.1f} s  "
        f"({1000 * baseline / len(paths):.1f} ms a file)",
        f"import_samples --wait, 2 processes:  {elapsed:6.1f} s  "
        f"({1000 * elapsed / len(paths):.1f} ms a file)",
        f"ratio {ratio:.2f}x (goal <= {GOAL_RATIO}x) {verdict}",
        summary,
        f"of the import: command start-up {startup:.1f} s; near-duplicate rule alone, "
        f"one process {near_duplicates:.1f} s ({1000 * near_duplicates / len(paths):.1f} ms "
        "a file)",
    ]
