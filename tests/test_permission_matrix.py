"""Every API endpoint against every role and an anonymous client, compared with the table.

The expected outcome is derived from ``accounts.rbac.ROLE_PERMISSIONS``, the
same table the code enforces. Each issue that adds an endpoint adds it to
ENDPOINTS below; ``test_every_api_route_and_method_is_in_the_matrix`` fails
until it does. API keys are tried twice: with every scope of the role, and
with no scope at all (which may only read ``auth/me``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
import soundfile as sf
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Role
from accounts.rbac import ROLE_PERMISSIONS
from accounts.services import api_key_create
from studio.models import Kit
from tests import audio
from tests.factories import (
    BatchJobFactory,
    CollectionFactory,
    SampleFactory,
    UserFactory,
    api_key_headers,
)

PUBLIC = "public"  # no credentials needed
SIGNED_IN = "signed-in"  # any active account
# What an API key may do on an endpoint: what its scopes allow ("scoped"), nothing
# ("never": the person must sign in), or anything its account may ("any", even with no scope).
SCOPED, NEVER, ANY_KEY = "scoped", "never", "any"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {placeholders} are filled from the subject's own objects
    needs: str  # PUBLIC, SIGNED_IN or a permission name
    body: dict = field(default_factory=dict)
    allowed_statuses: tuple[int, ...] = (200, 201, 202, 204)
    multipart: bool = False  # the body's "file"/"files" get a small generated WAV
    keys: str = SCOPED

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


ENDPOINTS = [
    # 503 is the health check's answer when a part (e.g. the worker) is down: still allowed.
    Endpoint("get", "/api/v1/health", PUBLIC, allowed_statuses=(200, 503)),
    Endpoint("get", "/api/v1/health/ready", PUBLIC, allowed_statuses=(200, 503)),
    # administration
    Endpoint("get", "/api/v1/admin/users", "admin:users"),
    Endpoint("get", "/api/v1/admin/analytics", "admin:analytics"),
    Endpoint("get", "/api/v1/admin/audit-logs", "admin:system"),
    Endpoint("get", "/api/v1/admin/rate-limits?user_id={id}", "admin:users"),
    Endpoint(
        "post",
        "/api/v1/admin/rate-limits",
        "admin:users",
        {"user_id": "{id}", "api_requests_per_minute": 1000},
    ),
    Endpoint("post", "/api/v1/auth/register", PUBLIC, {"email": "new-{id}@example.com"}),
    Endpoint("post", "/api/v1/auth/login", PUBLIC, {"email": "{email}"}),
    Endpoint("post", "/api/v1/auth/refresh", PUBLIC, {"refresh": "{refresh}"}),
    Endpoint("post", "/api/v1/auth/logout", SIGNED_IN, {"refresh": "{refresh}"}, keys=NEVER),
    Endpoint("get", "/api/v1/auth/me", SIGNED_IN, keys=ANY_KEY),
    Endpoint("patch", "/api/v1/auth/me", SIGNED_IN, {"display_name": "Renamed"}, keys=NEVER),
    Endpoint("get", "/api/v1/auth/api-keys", "api:keys"),
    Endpoint("post", "/api/v1/auth/api-keys", "api:keys", {"name": "matrix"}),
    Endpoint("get", "/api/v1/auth/api-keys/{key_id}", "api:keys"),
    Endpoint("delete", "/api/v1/auth/api-keys/{key_id}", "api:keys"),
    # library
    Endpoint("get", "/api/v1/audio/", SIGNED_IN),
    Endpoint("post", "/api/v1/audio/upload", "audio:upload", {"file": "wav"}, multipart=True),
    Endpoint("post", "/api/v1/audio/batch", "audio:batch", {"files": "wav"}, multipart=True),
    Endpoint("get", "/api/v1/audio/batch/{batch_id}", SIGNED_IN),
    Endpoint("get", "/api/v1/audio/{sample_id}", SIGNED_IN),
    Endpoint("patch", "/api/v1/audio/{sample_id}", "audio:edit", {"name": "Renamed"}),
    Endpoint("put", "/api/v1/audio/{sample_id}", "audio:edit", {"name": "Renamed", "tags": []}),
    Endpoint("delete", "/api/v1/audio/{sample_id}", "audio:delete"),
    Endpoint("get", "/api/v1/audio/{sample_id}/download", "audio:download"),
    Endpoint("get", "/api/v1/audio/{sample_id}/preview", SIGNED_IN),
    Endpoint("post", "/api/v1/audio/{sample_id}/reanalyze", "audio:analyze"),
    # organise
    Endpoint("get", "/api/v1/duplicates", "audio:download"),
    Endpoint("post", "/api/v1/duplicates/keep", "audio:delete", {"sample": "{sample_id}"}),
    Endpoint("post", "/api/v1/duplicates/dismiss", "audio:edit", {"sample": "{sample_id}"}),
    Endpoint("get", "/api/v1/audio/{sample_id}/rating", SIGNED_IN, keys=NEVER),
    Endpoint("get", "/api/v1/map", "audio:download"),
    Endpoint("get", "/api/v1/smart-collections", "collection:create"),
    Endpoint("post", "/api/v1/smart-collections", "collection:create", {"name": "M", "query": {}}),
    Endpoint("get", "/api/v1/smart-collections/{smart_id}", "collection:create"),
    Endpoint("get", "/api/v1/smart-collections/{smart_id}/samples", "collection:create"),
    Endpoint("get", "/api/v1/smart-collections/{smart_id}/download", "audio:download"),
    Endpoint("delete", "/api/v1/smart-collections/{smart_id}", "collection:create"),
    Endpoint("get", "/api/v1/audio/{sample_id}/tag-suggestions", SIGNED_IN, keys=NEVER),
    Endpoint(
        "post",
        "/api/v1/audio/{sample_id}/tag-suggestions",
        "audio:edit",
        {"tag": "dusty", "answer": "reject"},
    ),
    Endpoint("put", "/api/v1/audio/{sample_id}/rating", SIGNED_IN, {"rating": 4}, keys=NEVER),
    Endpoint("patch", "/api/v1/audio/{sample_id}/rating", SIGNED_IN, {"rating": 2}, keys=NEVER),
    Endpoint("get", "/api/v1/collections", SIGNED_IN),
    Endpoint("post", "/api/v1/collections", "collection:create", {"name": "Matrix"}),
    Endpoint("get", "/api/v1/collections/{collection_id}", SIGNED_IN),
    Endpoint("patch", "/api/v1/collections/{collection_id}", "collection:edit", {"name": "New"}),
    Endpoint("put", "/api/v1/collections/{collection_id}", "collection:edit", {"name": "New"}),
    Endpoint("delete", "/api/v1/collections/{collection_id}", "collection:delete"),
    Endpoint(
        "post",
        "/api/v1/collections/{collection_id}/samples",
        "collection:edit",
        {"sample_ids": ["{sample_id}"]},
    ),
    Endpoint(
        "delete",
        "/api/v1/collections/{collection_id}/samples",
        "collection:edit",
        {"sample_ids": ["{sample_id}"]},
    ),
    Endpoint(
        "put",
        "/api/v1/collections/{collection_id}/order",
        "collection:edit",
        {"sample_ids": ["{sample_id}"]},
    ),
    Endpoint("get", "/api/v1/collections/{collection_id}/download", "audio:download"),
    # studio
    Endpoint("get", "/api/v1/studio/project", SIGNED_IN, keys=ANY_KEY),
    Endpoint("put", "/api/v1/studio/project", SIGNED_IN, {"bpm": 120}, keys=NEVER),
    Endpoint("patch", "/api/v1/studio/project", SIGNED_IN, {"key": "Am"}, keys=NEVER),
    Endpoint("get", "/api/v1/audio/{sample_id}/render?bpm=120", "audio:download"),
    # the subject's sample is not a loop, so slicing answers 400 after the permission check
    Endpoint(
        "get", "/api/v1/audio/{sample_id}/slices", "audio:download", allowed_statuses=(200, 400)
    ),
    Endpoint(
        "post", "/api/v1/audio/{sample_id}/slices", "audio:upload", allowed_statuses=(201, 400)
    ),
    Endpoint("get", "/api/v1/collections/{collection_id}/render?bpm=120", "audio:download"),
    Endpoint("get", "/api/v1/kits", SIGNED_IN),
    Endpoint("post", "/api/v1/kits", "collection:create", {"name": "Matrix kit"}),
    Endpoint("get", "/api/v1/kits/{kit_id}", SIGNED_IN),
    Endpoint("patch", "/api/v1/kits/{kit_id}", "collection:edit", {"name": "New"}),
    Endpoint("put", "/api/v1/kits/{kit_id}", "collection:edit", {"name": "New"}),
    Endpoint("delete", "/api/v1/kits/{kit_id}", "collection:delete"),
    Endpoint(
        "put",
        "/api/v1/kits/{kit_id}/pads",
        "collection:edit",
        {"pads": [{"pad": 2, "sample_id": "{sample_id}"}]},
    ),
    # the subject's sample is not analysed, so there is nothing to sound like: 409
    Endpoint(
        "get", "/api/v1/kits/{kit_id}/suggestions", "search:similar", allowed_statuses=(200, 409)
    ),
    Endpoint("get", "/api/v1/kits/{kit_id}/export?format=zip", "audio:download"),
    # billing: Stripe is not configured here, so checkout and portal answer 409 billing_manual
    Endpoint("get", "/api/v1/billing/plans", PUBLIC),
    Endpoint("get", "/api/v1/billing/subscription", SIGNED_IN, keys=NEVER),
    Endpoint(
        "post", "/api/v1/billing/checkout", SIGNED_IN, {"plan": "pro"}, (201, 409), keys=NEVER
    ),
    Endpoint("post", "/api/v1/billing/portal", SIGNED_IN, allowed_statuses=(200, 409), keys=NEVER),
    # search: the subject's sample is not analysed, so similarity answers 409 not_analysed
    Endpoint("get", "/api/v1/search", "search:basic"),
    Endpoint("get", "/api/v1/search?q=sample&facets=true", "search:basic"),
    Endpoint(
        "get",
        "/api/v1/search?q=sample&similar_to={sample_id}",
        "search:advanced",
        allowed_statuses=(200, 409),
    ),
    Endpoint(
        "get",
        "/api/v1/search?similar_to={sample_id}",
        "search:similar",
        allowed_statuses=(200, 409),
    ),
    Endpoint("get", "/api/v1/search/autocomplete?q=sam", "search:basic"),
    Endpoint(
        "get", "/api/v1/audio/{sample_id}/similar", "search:similar", allowed_statuses=(200, 409)
    ),
    Endpoint("post", "/api/v1/search/by-sound", "search:similar", {"file": "wav"}, multipart=True),
]

# How the placeholders above appear in the URL configuration.
ROUTE_CONVERTERS = {
    "{key_id}": "<int:pk>",
    "{sample_id}": "<uuid:pk>",
    "{batch_id}": "<uuid:pk>",
    "{collection_id}": "<int:pk>",
    "{kit_id}": "<int:pk>",
    "{smart_id}": "<int:pk>",
}

PASSWORD = "correct-horse-battery"
ANONYMOUS = "anonymous"
CALLERS = [
    (ANONYMOUS, "none"),
    *[
        (role, auth)
        for role in Role.values
        for auth in ("jwt", "api_key")
        if auth == "jwt" or "api:keys" in ROLE_PERMISSIONS[role]
    ],
    (Role.PRO, "api_key_without_scopes"),
]


def expected_to_succeed(endpoint: Endpoint, role: str, auth: str) -> bool:
    if endpoint.needs == PUBLIC:
        return True
    if role == ANONYMOUS:
        return False
    if auth == "api_key_without_scopes":
        return endpoint.keys == ANY_KEY
    if auth == "api_key" and endpoint.keys == NEVER:
        return False
    return endpoint.needs == SIGNED_IN or endpoint.needs in ROLE_PERMISSIONS[role]


def _fill(value, context: dict):
    if isinstance(value, str):
        return value.format(**context)
    if isinstance(value, dict):
        return {key: _fill(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, context) for item in value]
    return value


def _subject_objects(subject) -> dict:
    """A sample (with file and preview), a collection holding it, and a batch job."""
    sample = SampleFactory(owner=subject)
    sample.file.save("s.wav", ContentFile(_wav()), save=False)
    sample.preview.save("p.ogg", ContentFile(b"OggS"), save=True)
    collection = CollectionFactory(owner=subject, name="Own")
    collection.items.create(sample=sample, position=0)
    batch = BatchJobFactory(owner=subject, kind="upload", total=0)
    kit = Kit.objects.create(owner=subject, name="Own kit")
    kit.pads.create(pad=0, sample=sample)
    from organise.models import SmartCollection

    smart = SmartCollection.objects.create(owner=subject, name="Own search", query={})
    return {
        "sample_id": sample.pk,
        "collection_id": collection.pk,
        "batch_id": batch.pk,
        "kit_id": kit.pk,
        "smart_id": smart.pk,
    }


def _wav() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio.tone(440, seconds=0.2), audio.SR, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


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
        **_subject_objects(subject),
    }
    headers = {}
    if auth == "jwt":
        headers = {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(subject).access_token}"}
    elif auth == "api_key":
        _, secret = api_key_create(owner=subject, name="caller")  # all of the role's scopes
        headers = api_key_headers(secret)
    elif auth == "api_key_without_scopes":
        _, secret = api_key_create(owner=subject, name="caller", scopes=[])
        headers = api_key_headers(secret)
    path = _fill(endpoint.path, context)
    if endpoint.multipart:
        files = {name: SimpleUploadedFile("matrix.wav", _wav()) for name in endpoint.body}
        response = getattr(client, endpoint.method)(path, data=files, **headers)
    else:
        body = _fill({"password": PASSWORD, **endpoint.body}, context) if endpoint.body else None
        response = getattr(client, endpoint.method)(
            path, data=body, content_type="application/json", **headers
        )

    if expected_to_succeed(endpoint, role, auth):
        assert response.status_code in endpoint.allowed_statuses, response.content[:300]
    elif role == ANONYMOUS:
        assert response.status_code == 401, response.content[:300]
    else:
        assert response.status_code == 403, response.content[:300]
        assert response.json()["error"]["code"] == "permission_denied"


def _view_methods(pattern: URLPattern) -> set[str]:
    """The HTTP methods a route's view answers (HEAD and OPTIONS aside)."""
    view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
    if view is None:  # a plain function view: it decides for itself
        return {"GET"}
    return {
        method.upper()
        for method in view.http_method_names
        if method not in ("head", "options") and hasattr(view, method)
    }


def _routes(resolver: URLResolver, prefix: str = "") -> set[tuple[str, str]]:
    routes = set()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            routes |= {(route, method) for method in _view_methods(pattern)}
    return routes


def test_every_api_route_and_method_is_in_the_matrix():
    covered = set()
    for endpoint in ENDPOINTS:
        route = endpoint.path.removeprefix("/").split("?")[0]
        for placeholder, converter in ROUTE_CONVERTERS.items():
            route = route.replace(placeholder, converter)
        covered.add((route, endpoint.method.upper()))
    api_routes = {pair for pair in _routes(get_resolver()) if pair[0].startswith("api/v1/")}

    assert api_routes - covered == set()
    assert ("api/v1/auth/me", "PATCH") in api_routes  # methods are really read from the views
