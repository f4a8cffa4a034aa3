"""Health checks: is each part the product needs reachable and working?"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from samplemind.celery import app as celery_app
from samplemind.tasks import HEARTBEAT_KEY

Check = dict[str, Any]


def check_database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version')")
        (version,) = cursor.fetchone()
    return {"ok": True, "version": version}


def check_pgvector() -> Check:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extname, extversion FROM pg_extension WHERE extname IN ('vector', 'pg_trgm')"
        )
        found = dict(cursor.fetchall())
        # The operator, not just the catalogue entry: cosine distance must compute.
        cursor.execute("SELECT '[1,0]'::vector <=> '[0,1]'::vector")
        (distance,) = cursor.fetchone()
    return {
        "ok": "vector" in found and "pg_trgm" in found and abs(distance - 1.0) < 1e-6,
        "vector": found.get("vector"),
        "pg_trgm": found.get("pg_trgm"),
    }


def check_redis() -> Check:
    client = cache.client.get_client(write=True)  # django-redis: the raw redis-py client
    return {"ok": bool(client.ping()), "version": client.info("server").get("redis_version")}


# A busy worker may miss one ping: the last workers that answered count for this long.
CELERY_PING_TIMEOUT = 1.0
CELERY_LAST_GOOD_SECONDS = 60
CELERY_LAST_GOOD_KEY = "health:celery-workers"


def check_celery() -> Check:
    replies = celery_app.control.ping(timeout=CELERY_PING_TIMEOUT) or []
    workers = sorted(name for reply in replies for name in reply)
    if workers:
        cache.set(CELERY_LAST_GOOD_KEY, workers, CELERY_LAST_GOOD_SECONDS)
    elif workers := cache.get(CELERY_LAST_GOOD_KEY) or []:
        return {"ok": True, "workers": workers, "answered": False, **_heartbeat()}
    return {"ok": bool(workers), "workers": workers, **_heartbeat()}


def _heartbeat() -> Check:
    last_beat = cache.get(HEARTBEAT_KEY)
    age = None
    if last_beat and (when := parse_datetime(last_beat)):
        age = round((timezone.now() - when).total_seconds(), 1)
    return {"last_heartbeat_seconds_ago": age}


def check_queues() -> Check:
    from samplemind.analytics import queue_depths

    depths = queue_depths()
    return {"ok": None not in depths.values(), "depth": depths}


CHECKS: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "pgvector": check_pgvector,
    "redis": check_redis,
    "celery": check_celery,
}
READY_CHECKS: dict[str, Callable[[], Check]] = {**CHECKS, "queues": check_queues}
# Run in the request's own thread and database connection, one after the other; the
# rest (Redis, broker, workers) meanwhile in another thread, so that an outage costs
# the longest wait (the pool's timeout, Celery's ping) rather than their sum.
DATABASE_CHECKS = ("database", "pgvector")


def run_checks(checks: dict[str, Callable[[], Check]] = CHECKS) -> dict[str, Check]:
    """Run every check; a check that raises reports its error instead of failing the rest."""
    on_database = {name: check for name, check in checks.items() if name in DATABASE_CHECKS}
    elsewhere = {name: check for name, check in checks.items() if name not in DATABASE_CHECKS}
    with ThreadPoolExecutor(max_workers=1) as executor:
        other_results = executor.submit(contextvars.copy_context().run, _run_in_turn, elsewhere)
        results = _run_in_turn(on_database)
        results.update(other_results.result())
    return {name: results[name] for name in checks}


def _run_in_turn(checks: dict[str, Callable[[], Check]]) -> dict[str, Check]:
    results: dict[str, Check] = {}
    for name, check in checks.items():
        if results.get("database", {}).get("ok") is False:
            # The rest of the database checks would wait out the pool's timeout again.
            results[name] = {"ok": False, "error": "skipped: the database does not answer"}
            continue
        started = time.perf_counter()
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = result
    return results


class HealthView(APIView):
    """Liveness and a status report: 200 while this process serves requests from the database.

    ``status`` is "ok" when every part (database, pgvector, Redis, Celery
    workers) answers and "degraded" otherwise; only a database that does not
    answer makes it 503, since nothing works without it.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]  # for probes, whatever they accept
    throttle_classes: list = []  # monitoring polls it

    @extend_schema(responses={200: dict, 503: dict})
    def get(self, request: Request) -> Response:
        checks = run_checks()
        healthy = all(check["ok"] for check in checks.values())
        status = "ok" if healthy else "degraded"
        if not checks["database"]["ok"]:
            status = "unavailable"
        return Response(
            {"status": status, "checks": checks}, status=503 if status == "unavailable" else 200
        )


class ReadyView(HealthView):
    """Readiness: 200 only when database, Redis, broker and a worker all answer."""

    @extend_schema(responses={200: dict, 503: dict})
    def get(self, request: Request) -> Response:
        checks = run_checks(READY_CHECKS)
        ready = all(check["ok"] for check in checks.values())
        return Response(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status=200 if ready else 503,
        )


class HealthProbeMiddleware:
    """Answers ``GET /api/v1/health`` and ``/api/v1/health/ready`` before any host check.

    Container healthchecks and load balancers probe ``127.0.0.1`` or a pod
    address, which ``ALLOWED_HOSTS`` rightly leaves out (Django would answer
    400), and over plain HTTP (``SECURE_SSL_REDIRECT`` would answer 301). Put
    it before ``SecurityMiddleware``; every other path goes on unchanged.
    """

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.views: dict[str, Callable] | None = None

    def __call__(self, request: Any) -> Any:
        if request.method in ("GET", "HEAD"):
            if self.views is None:  # the URLconf is not loaded when middleware is built
                self.views = self._views()
            if view := self.views.get(request.path_info):
                response = view(request)
                return response.render()
        return self.get_response(request)

    @staticmethod
    def _views() -> dict[str, Callable]:
        from django.urls import NoReverseMatch, reverse

        try:
            return {
                reverse("v1:health"): HealthView.as_view(),
                reverse("v1:health-ready"): ReadyView.as_view(),
            }
        except NoReverseMatch:  # a URLconf without the API (some tests use their own)
            return {}
