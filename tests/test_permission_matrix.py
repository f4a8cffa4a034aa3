"""Every API endpoint against every role and an anonymous client, compared with the table.

The expected outcome is derived from ``accounts.rbac.ROLE_PERMISSIONS``, the
same table the code enforces. Each issue that adds an endpoint adds it to
ENDPOINTS below; ``test_every_api_route_is_in_the_matrix`` fails until it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Role
from accounts.rbac import ROLE_PERMISSIONS
from accounts.services import api_key_create
from tests.factories import UserFactory, api_key_headers

PUBLIC = "public"  # no credentials needed
SIGNED_IN = "signed-in"  # any active account


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {placeholders} are filled from the subject's own objects
    needs: str  # PUBLIC, SIGNED_IN or a permission name
    body: dict = field(default_factory=dict)
    allowed_statuses: tuple[int, ...] = (200, 201, 204)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


ENDPOINTS = [
    # 503 is the health check's answer when a part (e.g. the worker) is down: still allowed.
    Endpoint("get", "/api/v1/health", PUBLIC, allowed_statuses=(200, 503)),
    Endpoint("post", "/api/v1/auth/register", PUBLIC, {"email": "new-{id}@example.com"}),
    Endpoint("post", "/api/v1/auth/login", PUBLIC, {"email": "{email}"}),
    Endpoint("post", "/api/v1/auth/refresh", PUBLIC, {"refresh": "{refresh}"}),
    Endpoint("post", "/api/v1/auth/logout", SIGNED_IN, {"refresh": "{refresh}"}),
    Endpoint("get", "/api/v1/auth/me", SIGNED_IN),
    Endpoint("patch", "/api/v1/auth/me", SIGNED_IN, {"display_name": "Renamed"}),
    Endpoint("get", "/api/v1/auth/api-keys", "api:keys"),
    Endpoint("post", "/api/v1/auth/api-keys", "api:keys", {"name": "matrix"}),
    Endpoint("get", "/api/v1/auth/api-keys/{key_id}", "api:keys"),
    Endpoint("delete", "/api/v1/auth/api-keys/{key_id}", "api:keys"),
]

PASSWORD = "correct-horse-battery"
ANONYMOUS = "anonymous"
CALLERS = [(ANONYMOUS, "none")] + [
    (role, auth)
    for role in Role.values
    for auth in ("jwt", "api_key")
    if auth == "jwt" or "api:keys" in ROLE_PERMISSIONS[role]
]


def expected_to_succeed(endpoint: Endpoint, role: str) -> bool:
    if endpoint.needs == PUBLIC:
        return True
    if role == ANONYMOUS:
        return False
    return endpoint.needs == SIGNED_IN or endpoint.needs in ROLE_PERMISSIONS[role]


def _fill(value, context: dict):
    if isinstance(value, str):
        return value.format(**context)
    if isinstance(value, dict):
        return {key: _fill(item, context) for key, item in value.items()}
    return value


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize(("role", "auth"), CALLERS, ids=lambda v: v)
def test_endpoint_outcome_matches_the_permission_table(client, endpoint, role, auth):
    # Every caller, anonymous included, has a subject account whose objects fill the path.
    subject = UserFactory(role=Role.FREE if role == ANONYMOUS else role)
    own_key, secret = api_key_create(owner=subject, name="own", scopes=[])
    context = {
        "id": subject.pk,
        "email": subject.email,
        "refresh": str(RefreshToken.for_user(subject)),
        "key_id": own_key.pk,
    }
    headers = {}
    if auth == "jwt":
        headers = {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(subject).access_token}"}
    elif auth == "api_key":
        _, secret = api_key_create(owner=subject, name="caller")  # all of the role's scopes
        headers = api_key_headers(secret)
    body = _fill({"password": PASSWORD, **endpoint.body}, context) if endpoint.body else None

    response = getattr(client, endpoint.method)(
        _fill(endpoint.path, context), data=body, content_type="application/json", **headers
    )

    if expected_to_succeed(endpoint, role):
        assert response.status_code in endpoint.allowed_statuses, response.content[:300]
    elif role == ANONYMOUS:
        assert response.status_code == 401, response.content[:300]
    else:
        assert response.status_code == 403, response.content[:300]
        assert response.json()["error"]["code"] == "permission_denied"


def _routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    routes = []
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


def test_every_api_route_is_in_the_matrix():
    covered = {
        endpoint.path.removeprefix("/").replace("{key_id}", "<int:pk>") for endpoint in ENDPOINTS
    }
    api_routes = {route for route in _routes(get_resolver()) if route.startswith("api/v1/")}

    assert api_routes - covered == set()
