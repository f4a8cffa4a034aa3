"""The OpenAPI schema against the app itself: schemathesis, in process, on real services.

Every safe (GET) operation is called with a bounded number of generated
requests, valid and invalid, once with a studio member's token and once with
none, against the WSGI application with the tests' PostgreSQL and Redis.
Every answer must be one the schema documents (status code, content type, body
shape), no answer may be a server error, valid requests must be accepted and
invalid ones refused.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup

from accounts.models import Role
from samplemind.wsgi import application
from search.filters import registry
from search.filters.base import RangeFilter
from tests.factories import SampleFactory, UserFactory, bearer

EXAMPLES = 6  # per operation and generation mode: about 25 s for both runs
# Their 503 is their answer, documented: "not ready" while no worker runs in the tests.
PROBES = ("/api/v1/health", "/api/v1/health/ready")


def ranges() -> list[tuple[str, str]]:
    """Every range filter's (minimum, maximum) parameters, as the filter registry declares them."""
    return [(item.low, item.high) for item in registry if isinstance(item, RangeFilter)]


@pytest.fixture
def wsgi_in_test_transaction():
    """Keep the test's connection across requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def breaks_a_rule_across_parameters(query: dict | None) -> bool:
    """Rules OpenAPI 3.0 cannot state, which the API enforces with a 400.

    A minimum above its maximum; ``compatible`` without a key and a mode; a key
    whose mode (``Am``) contradicts ``mode``.
    """
    query = query or {}
    for low, high in ranges():
        if low in query and high in query and float(query[low]) > float(query[high]):
            return True
    if str(query.get("compatible")).lower() == "true" and not ("key" in query and "mode" in query):
        return True
    return "key" in query and "mode" in query


def conformance_failures(schema, headers: dict[str, str]) -> Counter:
    """Run every operation of ``schema``; count failures by operation, status and check."""
    failures: Counter = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                exercise(operation, mode, headers, failures)
            except Unsatisfiable:  # no invalid request exists for an operation without inputs
                assert mode is GenerationMode.NEGATIVE
    return failures


def exercise(operation, mode: GenerationMode, headers: dict[str, str], failures: Counter) -> None:
    excluded = [not_a_server_error] if operation.path in PROBES else []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case):
        if mode is GenerationMode.POSITIVE:
            assume(not breaks_a_rule_across_parameters(case.query))
        response = case.call(headers=headers)
        assert response.status_code != 500, response.text[:500]
        try:
            case.validate_response(response, headers=headers, excluded_checks=excluded)
        except FailureGroup as group:
            found = group.exceptions
        except Failure as failure:
            found = [failure]
        else:
            return
        for failure in found:
            failures[f"{operation.label} {response.status_code}: {failure.title}"] += 1

    call()


@pytest.mark.django_db
def test_every_answer_to_a_safe_request_is_one_the_schema_documents(wsgi_in_test_transaction):
    studio = UserFactory(role=Role.STUDIO)
    SampleFactory(owner=studio)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_in_test_transaction)
    schema = schema.include(method="GET")
    assert len(list(schema.get_all_operations())) >= 20

    token = {"Authorization": bearer(studio)["HTTP_AUTHORIZATION"]}
    with_token = conformance_failures(schema, token)
    without = conformance_failures(schema, {})

    assert dict(with_token) == {}
    assert dict(without) == {}
