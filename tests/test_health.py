"""GET /api/v1/health reports each part the product needs."""

import pytest

HEALTH = "/api/v1/health"
READY = "/api/v1/health/ready"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_health_is_green_with_database_pgvector_redis_and_a_worker(client, celery_worker_process):
    response = client.get(HEALTH)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "pgvector", "redis", "celery"}
    assert body["checks"]["database"]["version"].startswith("18")
    assert body["checks"]["pgvector"]["vector"].startswith("0.8")
    assert celery_worker_process["hostname"] in body["checks"]["celery"]["workers"]


@pytest.mark.django_db
def test_health_reports_a_dead_redis_as_degraded_and_readiness_fails(client, settings, tmp_path):
    dead = {**settings.CACHES["default"], "LOCATION": f"unix://{tmp_path}/nothing.sock"}
    settings.CACHES = {"default": dead}

    live = client.get(HEALTH)
    ready = client.get(READY)

    assert live.status_code == 200  # the process serves: do not restart it
    body = live.json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is False
    assert "ConnectionError" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["pgvector"]["ok"] is True
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_readiness_reports_queue_depth_with_a_worker(client, celery_worker_process):
    response = client.get(READY)

    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert set(checks["queues"]["depth"]) == {"analysis", "celery"}
    assert all(isinstance(n, int) for n in checks["queues"]["depth"].values())


@pytest.mark.django_db
def test_health_needs_no_login(client):
    response = client.get(HEALTH)

    assert response.status_code in (200, 503)
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_probes_from_an_address_outside_allowed_hosts_get_an_answer(client, settings):
    settings.ALLOWED_HOSTS = ["samples.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    probe = client.get(HEALTH, HTTP_HOST="127.0.0.1:8000")
    ready = client.get(READY, HTTP_HOST="10.0.3.7:8000")
    page = client.get("/", HTTP_HOST="127.0.0.1:8000")

    assert probe.status_code == 200  # not 400 (host) nor 301 (https)
    assert probe.json()["checks"]["database"]["ok"] is True
    assert ready.status_code in (200, 503)
    assert "checks" in ready.json()
    assert page.status_code == 400  # the host check still guards everything else
