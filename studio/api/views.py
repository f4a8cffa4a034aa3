"""Studio endpoints: project tempo and key, matched renders, kits, slices."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from studio import selectors
from studio.api import serializers as s
from studio.services.project import project_update


class ProjectView(APIView):
    """Your project tempo and key: what matched audition, drags and renders aim at.

    PUT and PATCH change only the fields sent; ``null`` clears tempo or key.
    """

    http_method_names = ["get", "put", "patch", "head", "options"]

    @extend_schema(responses={200: s.ProjectSerializer})
    def get(self, request: Request) -> Response:
        return Response(s.ProjectSerializer(selectors.project_settings(user=request.user)).data)

    @extend_schema(request=s.ProjectSerializer, responses={200: s.ProjectSerializer})
    def put(self, request: Request) -> Response:
        data = s.ProjectSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        project = project_update(user=request.user, **data.validated_data)
        return Response(s.ProjectSerializer(project).data)

    @extend_schema(request=s.ProjectSerializer, responses={200: s.ProjectSerializer})
    def patch(self, request: Request) -> Response:
        return self.put(request)
