"""The administrator's analytics endpoint, /api/v1/admin/analytics."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Allowed
from library.analytics import analytics_snapshot


class AnalyticsView(APIView):
    """Users per role, uploads per day, storage, analysis queue and failures, search, cache."""

    permission_classes = [Allowed("admin:analytics")]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(analytics_snapshot())
