"""Load: 20 uploaders and 20 searchers for 60 s against the server ``make run`` starts.

The server is started as ``make run`` starts it, on a free port and in a data
folder of its own (a temporary folder, so its own PostgreSQL, Redis and
media): ``samplemind.launch --prepare`` (migrations, an admin, static files)
then ``samplemind.supervise -f Procfile`` (gunicorn with ``WEB_CONCURRENCY``
processes, a Celery worker with ``CELERY_CONCURRENCY``, beat), DEBUG off. The
clock starts once ``/api/v1/health/ready`` answers 200.

Twenty enterprise-plan accounts upload (each with its own API key,
``Authorization: Api-Key``): a one-shot of 0.2-0.7 s synthesised afresh for
every request (16-bit WAV, 20-60 KB, never the same bytes twice), then a look
at the previous upload's status. Twenty more search with a JWT: a word, a
misspelt word, or filters only (category, one-shot, duration). Each client
is a thread with its own HTTP session, in this process, so the clients share
the machine's cores with the server, as on a one-box install.

After the load, the uploads get a grace period to finish analysing; the
database then says what became of each sample the API accepted: ready,
failed with a reason, or lost/stuck (anything else). Goals: 0 errors (any
answer but the expected 2xx, or no answer), 0 lost or stuck samples.

``BENCH_LOAD_SECONDS`` (default 60), ``BENCH_LOAD_UPLOADERS`` and
``BENCH_LOAD_SEARCHERS`` (20 each) and ``BENCH_LOAD_GRACE_SECONDS`` (300)
change the run; ``BENCH_LOAD_SECONDS=10`` is a smoke test. The server's log
is kept in ``$SAMPLEMIND_DATA/bench-load.log`` of the last run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import numpy as np

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
UPLOADERS = int(os.environ.get("BENCH_LOAD_UPLOADERS", "20"))
SEARCHERS = int(os.environ.get("BENCH_LOAD_SEARCHERS", "20"))
GRACE_SECONDS = float(os.environ.get("BENCH_LOAD_GRACE_SECONDS", "300"))
START_SECONDS = 300  # a fresh data folder: initdb, migrations, static files
TIMEOUT = 60  # one request
SR = 44100
KINDS = ("kick", "snare", "hat", "clap", "tom", "perc", "zap", "bass")
WORDS = ("dusty", "warm", "crisp", "vinyl", "deep", "bright", "tape", "room", "punchy", "lofi")
CATEGORIES = ("kick", "snare", "hihat", "clap", "tom", "percussion", "bass", "fx")
KINDS_OF_REQUEST = (
    "upload",
    "sample status",
    "search text",
    "search misspelt",
    "search filters only",
)
# Set for the server so that neither this process's environment nor a .env file (which
# the launcher reads, the environment winning) points it at real services or storage:
# empty URLs make the launcher start private servers in the server's own data folder.
ISOLATED = {
    "DATABASE_URL": "",
    "REDIS_URL": "",
    "CELERY_BROKER_URL": "",
    "CELERY_RESULT_BACKEND": "",
    "AWS_STORAGE_BUCKET_NAME": "",
    "BACKUP_BUCKET": "",
    "BACKUP_ROOT": "",
    "EMAIL_URL": "consolemail://",
    "STRIPE_SECRET_KEY": "",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
}
# Run inside the server's launcher: confirmed accounts, API keys, printed as one JSON line.
SETUP = """
import json
from allauth.account.models import EmailAddress
from accounts.models import User
from accounts.services import api_key_create
made = {"uploaders": [], "searchers": []}
for kind, count in (("uploaders", %(uploaders)d), ("searchers", %(searchers)d)):
    for i in range(count):
        email = f"load-{kind}-{i}@example.com"
        user = User.objects.create_user(email=email, password=%(password)r, role="enterprise")
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        entry = {"email": email}
        if kind == "uploaders":
            entry["key"] = api_key_create(owner=user, name="bench_load")[1]
        made[kind].append(entry)
print("ACCOUNTS " + json.dumps(made))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _one_shot(rng: np.random.Generator) -> bytes:
    """A short percussive sound, different every time (a tone and noise, decaying)."""
    import soundfile as sf

    seconds = rng.uniform(0.2, 0.7)
    t = np.arange(int(seconds * SR)) / SR
    tone = np.sin(2 * np.pi * rng.uniform(40, 2000) * t * (1 - rng.uniform(0, 0.5) * t))
    noise = rng.standard_normal(t.size) * rng.uniform(0, 1)
    signal_ = (tone + noise) * np.exp(-t * rng.uniform(5, 30))
    signal_ = 0.9 * signal_ / max(float(np.max(np.abs(signal_))), 1e-9)
    buffer = io.BytesIO()
    sf.write(buffer, signal_, SR, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


class Recorder:
    """Latencies and errors per request type, from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.uploaded: list[str] = []

    def call(self, kind: str, send, expected: int = 200):
        started = time.perf_counter()
        try:
            response = send()
        except Exception as exc:  # noqa: BLE001 - a request that got no answer is an error
            with self.lock:
                self.errors[kind].append(f"{type(exc).__name__}: {exc}"[:200])
            return None
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[kind].append(elapsed)
            if response.status_code != expected:
                self.errors[kind].append(f"{response.status_code} {response.text[:200]}")
        return response if response.status_code == expected else None


def _uploader(base: str, key: str, seed: int, stop: threading.Event, rec: Recorder) -> None:
    import requests

    rng = np.random.default_rng(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Api-Key {key}"
    previous = None
    n = 0
    while not stop.is_set():
        name = f"{KINDS[n % len(KINDS)]}_{WORDS[int(rng.integers(len(WORDS)))]}_{seed}_{n}.wav"
        data = _one_shot(rng)
        response = rec.call(
            "upload",
            lambda name=name, data=data: session.post(
                f"{base}/api/v1/audio/upload",
                files={"file": (name, data, "audio/wav")},
                data={"tags": "bench,load"},
                timeout=TIMEOUT,
            ),
            expected=201,
        )
        if response is not None:
            with rec.lock:
                rec.uploaded.append(response.json()["id"])
        if previous is not None and not stop.is_set():
            rec.call(
                "sample status",
                lambda sample_id=previous: session.get(
                    f"{base}/api/v1/audio/{sample_id}", timeout=TIMEOUT
                ),
            )
        previous = response.json()["id"] if response is not None else previous
        n += 1


def _searcher(base: str, token: str, seed: int, stop: threading.Event, rec: Recorder) -> None:
    import requests

    rng = np.random.default_rng(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    n = 0
    while not stop.is_set():
        word = str(rng.choice((*KINDS, *WORDS)))
        if n % 3 == 0:
            kind, params = "search text", {"q": word}
        elif n % 3 == 1:  # two letters swapped
            i = int(rng.integers(1, len(word) - 1))
            kind = "search misspelt"
            params = {"q": word[:i] + word[i + 1] + word[i] + word[i + 2 :]}
        else:
            kind = "search filters only"
            category = str(rng.choice(CATEGORIES))
            params = {"category": category, "is_loop": "false", "duration_max": "2"}
        rec.call(
            kind,
            lambda params=params: session.get(
                f"{base}/api/v1/search", params=params, timeout=TIMEOUT
            ),
        )
        n += 1


class Server:
    """``make run``'s stack on its own port and data folder; stopped as Ctrl-C stops it."""

    def __init__(self) -> None:
        from samplemind.embedded import BASE_DIR

        self.base_dir = BASE_DIR
        self.data = Path(tempfile.mkdtemp(prefix="samplemind-bench-load-"))
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.admin_password = uuid.uuid4().hex
        self.env = {**os.environ, **ISOLATED}
        self.env.update(
            SAMPLEMIND_DATA=str(self.data),
            MEDIA_ROOT=str(self.data / "media"),
            STATIC_ROOT=str(self.data / "static"),
            PORT=str(self.port),
            SAMPLEMIND_PORT=str(self.port),
            DEBUG="false",
            SAMPLEMIND_HTTPS="false",
            LOG_FORMAT="plain",
            LOG_REQUESTS="true",
            ADMIN_EMAIL="bench-admin@example.com",
            ADMIN_PASSWORD=self.admin_password,
            PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        )
        self.log_path = self.data / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import requests

        command = [sys.executable, "-m", "samplemind.launch", "--prepare", "--port"]
        command += [str(self.port), "--", sys.executable, "-m", "samplemind.supervise"]
        command += ["-f", "Procfile"]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=self.base_dir,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/api/v1/health/ready", timeout=5).status_code == 200:
                    return
            time.sleep(1)
        raise RuntimeError(f"the server was not ready in {START_SECONDS} s")

    def manage_shell(self, code: str) -> str:
        command = [sys.executable, "-m", "samplemind.launch", "--", sys.executable, "manage.py"]
        result = subprocess.run(  # noqa: S603 - our own command line
            [*command, "shell", "-c", code],
            cwd=self.base_dir,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def database_url(self) -> str:
        from samplemind.embedded import postgres_url

        return postgres_url(self.data)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # the launcher passes it on, then stops
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
        keep = Path(os.environ.get("SAMPLEMIND_DATA") or self.base_dir / "var") / "bench-load.log"
        with contextlib.suppress(OSError):
            shutil.copyfile(self.log_path, keep)
        shutil.rmtree(self.data, ignore_errors=True)


def _accounts(server: Server) -> tuple[list[str], list[str]]:
    """API keys of the uploaders, access tokens of the searchers (signed in through the API)."""
    import requests

    password = uuid.uuid4().hex
    code = SETUP % {"uploaders": UPLOADERS, "searchers": SEARCHERS, "password": password}
    line = next(
        line for line in server.manage_shell(code).splitlines() if line.startswith("ACCOUNTS ")
    )
    made = json.loads(line.removeprefix("ACCOUNTS "))
    tokens = []
    for entry in made["searchers"]:
        response = requests.post(
            f"{server.base}/api/v1/auth/login",
            json={"email": entry["email"], "password": password},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        tokens.append(response.json()["access"])
    return [entry["key"] for entry in made["uploaders"]], tokens


def _outcome(server: Server, ids: list[str], ended: float) -> tuple[dict, float | None, list]:
    """Wait up to the grace period for every accepted upload to finish; count what became of it."""
    import psycopg

    deadline = time.monotonic() + GRACE_SECONDS
    with psycopg.connect(server.database_url()) as conn:
        while True:
            rows = conn.execute(
                "SELECT id::text, status, error FROM library_sample WHERE id = ANY(%s::uuid[])",
                [ids],
            ).fetchall()
            found = {sample_id: (status, error) for sample_id, status, error in rows}
            finished = [
                s for s, e in found.values() if s == "ready" or (s == "failed" and e.strip())
            ]
            if len(finished) == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(1)
    drained = time.monotonic() - ended if len(finished) == len(ids) else None
    counts = {"ready": 0, "failed with a reason": 0, "lost or stuck": 0}
    reasons = []
    for sample_id in ids:
        status, error = found.get(sample_id, (None, ""))
        if status == "ready":
            counts["ready"] += 1
        elif status == "failed" and error.strip():
            counts["failed with a reason"] += 1
            reasons.append(error[:120])
        else:
            counts["lost or stuck"] += 1
    return counts, drained, reasons


def run() -> list[str]:
    server = Server()
    try:
        started = time.perf_counter()
        server.start()
        keys, tokens = _accounts(server)
        setup = time.perf_counter() - started
        rec, stop = Recorder(), threading.Event()
        threads = [
            threading.Thread(target=_uploader, args=(server.base, key, i, stop, rec), daemon=True)
            for i, key in enumerate(keys)
        ] + [
            threading.Thread(target=_searcher, args=(server.base, token, i, stop, rec), daemon=True)
            for i, token in enumerate(tokens)
        ]
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=TIMEOUT + 5)
        ended = time.monotonic()
        counts, drained, reasons = _outcome(server, list(rec.uploaded), ended)
    finally:
        server.stop()
    lines = [
        f"{UPLOADERS} uploaders (API keys) and {SEARCHERS} searchers (JWT) for {SECONDS:g} s "
        f"against gunicorn + worker + beat on a fresh data folder (started in {setup:.0f} s)",
        f"{'request':<22}{'count':>7}{'per s':>8}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}",
    ]
    total_errors = 0
    for kind in (
        "upload",
        "sample status",
        "search text",
        "search misspelt",
        "search filters only",
    ):
        values = np.array(rec.latencies.get(kind, [])) * 1000
        errors = len(rec.errors.get(kind, []))
        total_errors += errors
        p50, p95 = np.percentile(values, [50, 95]) if values.size else (float("nan"),) * 2
        lines.append(
            f"{kind:<22}{values.size:>7}{values.size / SECONDS:>8.1f}{errors:>8}"
            f"{p50:>9.0f}{p95:>9.0f}"
        )
    verdict = "ok" if total_errors == 0 else "MISSED"
    lines.append(f"errors: {total_errors} (goal 0) {verdict}")
    for kind, errors in rec.errors.items():
        for error in errors[:3]:
            lines.append(f"  {kind}: {error}")
    lost = counts["lost or stuck"]
    lines.append(
        f"uploads accepted: {len(rec.uploaded)}; after the run: {counts['ready']} ready, "
        f"{counts['failed with a reason']} failed with a reason, {lost} lost or stuck "
        f"(goal 0) {'ok' if lost == 0 else 'MISSED'}"
    )
    lines.append(
        f"last analysis done {drained:.0f} s after the load ended"
        if drained is not None
        else f"not all done {GRACE_SECONDS:g} s after the load ended"
    )
    lines += [f"  failed: {reason}" for reason in reasons[:5]]
    return lines
