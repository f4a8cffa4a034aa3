"""The OpenAPI schema's error answers, declared once for every operation.

Every API error has one shape (``samplemind.api.error_body``). Rather than
repeat it on each view, :class:`AutoSchema` adds the error answers an
operation can give, read from what the view is made of:

- 400 where it takes query parameters or a request body (POST, PUT, PATCH);
- 401 where it authenticates (missing, wrong or expired credentials);
- 403 where a permission, a role, an API key's scope or a quota applies, and on
  unsafe methods reachable with a session cookie (CSRF);
- 404 where the path names an object, or the list is paginated (a page past
  the last);
- 413 where the request body carries files;
- 429 where a rate limit applies.

A view adds what only its services know (409 for a duplicate) with
``openapi_errors = (409,)`` for its POST, PUT and PATCH, or per method with
``openapi_errors = {"DELETE": (400,)}``. Status codes a
view declares itself with ``extend_schema(responses=...)`` are left alone.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance, is_serializer
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
BODY_METHODS = ("POST", "PUT", "PATCH")

ERRORS = {
    400: "The request is malformed or a parameter is invalid; `details` names the fields.",
    401: "No credentials, or credentials that are wrong or expired.",
    403: "Not allowed: the role, the API key's scopes, a quota or the CSRF check refuse it.",
    404: "No such object, or one you may not see; for a list, a page past the last.",
    409: "It already exists: a file already in your library, or a collection name you use.",
    413: "The upload is larger than your plan or the server allows.",
    429: "Too many requests; `details.retry_after` says how many seconds to wait.",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: invalid, not_found, ...")
    message = serializers.CharField(help_text="For people.")
    details = serializers.DictField(
        help_text="Per field messages for 400; `retry_after` seconds for 429; else empty."
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    error = ErrorDetailSerializer()

    class Meta:
        ref_name = "Error"


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the shared error answers each operation can give."""

    def get_override_parameters(self) -> list:
        """The view's declared parameters, plus ``view.filter_parameters()`` when it has one.

        Filter parameters come from the search filter registry, read when the
        schema is made, so a filter registered later still shows.
        """
        parameters = list(super().get_override_parameters())
        filter_parameters = getattr(self.view, "filter_parameters", None)
        if filter_parameters is not None:
            parameters.append(filter_parameters())
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self.error_statuses():
            if str(status) not in responses:
                answer = OpenApiResponse(response=ErrorSerializer, description=ERRORS[status])
                responses[str(status)] = self._get_response_for_code(answer, str(status))
        return responses

    def error_statuses(self) -> list[int]:
        """The error status codes this operation can answer, in order."""
        view, unsafe = self.view, self.method in UNSAFE_METHODS
        authenticators = view.get_authenticators()
        parameters = self._get_parameters()
        statuses = set()
        if self.method in BODY_METHODS or any(p["in"] == "query" for p in parameters):
            statuses.add(400)
        if authenticators:
            statuses.add(401)
        guarded = any(not isinstance(p, AllowAny) for p in view.get_permissions())
        csrf = unsafe and any(isinstance(a, SessionAuthentication) for a in authenticators)
        if guarded or csrf:
            statuses.add(403)
        paginated = any(p["in"] == "query" and p["name"] == "page" for p in parameters)
        if "{" in self.path or paginated:
            statuses.add(404)
        if unsafe and self._takes_files():
            statuses.add(413)
        if view.get_throttles():
            statuses.add(429)
        declared = getattr(view, "openapi_errors", ())
        if isinstance(declared, dict):
            statuses.update(declared.get(self.method, ()))
        elif self.method in BODY_METHODS:
            statuses.update(declared)
        return sorted(statuses)

    def _takes_files(self) -> bool:
        request = self.get_request_serializer()
        candidates = request.values() if isinstance(request, dict) else [request]
        for candidate in candidates:
            serializer = force_instance(candidate)
            if not is_serializer(serializer):
                continue
            for field in serializer.fields.values():
                field = getattr(field, "child", field)
                if isinstance(field, serializers.FileField):
                    return True
        return False
