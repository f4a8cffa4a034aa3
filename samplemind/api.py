"""API plumbing shared by every app: one error shape for every failure.

Every API error reads ``{"error": {"code": ..., "message": ..., "details": {...}}}``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from samplemind.errors import ProductError


class Pagination(PageNumberPagination):
    """Pages of 50 by default; ``?page_size=`` up to 200.

    A ``page`` or ``page_size`` that is not a whole number in range answers 400
    (DRF would quietly use the default size); a page past the last answers 404.
    """

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        return self._number(request, self.page_size_query_param, self.max_page_size) or (
            self.page_size
        )

    def paginate_queryset(self, queryset, request, view=None):
        self._number(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    @staticmethod
    def _number(request, name: str, maximum: int | None = None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        field = serializers.IntegerField(min_value=1, max_value=maximum)
        try:
            return field.run_validation(raw)
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({name: exc.detail}) from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {
                "minimum": 1,
                "maximum": self.max_page_size,
                "default": self.page_size,
            },
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _message(detail: Any) -> str:
    """The first human-readable message inside a DRF error detail."""
    if isinstance(detail, dict):
        for value in detail.values():
            return _message(value)
    if isinstance(detail, list) and detail:
        return _message(detail[0])
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, reshaped; unknown exceptions still reach Django's 500 handling."""
    if isinstance(exc, ProductError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, message = "invalid", _message(exc.detail)
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        message, details = _message(exc.detail), {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details = {"retry_after": int(exc.wait)}
    else:  # Http404 and PermissionDenied from Django
        code = "not_found" if response.status_code == status.HTTP_404_NOT_FOUND else "denied"
        message, details = _message(response.data), {}
    response.data = error_body(str(code), message, details)
    return response
