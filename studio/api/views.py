"""Studio endpoints: project tempo and key, matched renders, kits, slices."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Allowed
from library import selectors as library_selectors
from library.api.files import stored_file_response
from samplemind.openapi import ErrorSerializer
from studio import selectors
from studio.api import serializers as s
from studio.errors import RendersBusy
from studio.models import RenderStatus
from studio.services.project import project_update
from studio.services.renders import render_request


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


class AudioFormatNegotiation(DefaultContentNegotiation):
    """Leaves ``?format=`` to the view: there it names the audio format, not the renderer."""

    class settings:  # noqa: N801 - stands in for DRF's api_settings
        URL_FORMAT_OVERRIDE = None


class RenderView(APIView):
    """The sample at a tempo and key: 202 while it is being made, then the file.

    Loops are time-stretched to ``bpm`` (Rubber Band's finest engine); tonal
    sounds are shifted to ``key`` (or its relative, in the sound's own mode) by
    at most six semitones; drums keep their pitch unless ``pitch_drums``.
    Without ``bpm`` and ``key`` your project's are used. Renders are kept
    (per sample, analyser version, tempo, key and format) and count against
    your storage; your least recently used ones make room for new ones.
    """

    permission_classes = [Allowed("audio:download")]
    content_negotiation_class = AudioFormatNegotiation

    @extend_schema(
        parameters=[s.RenderQuerySerializer],
        responses={
            (200, "audio/wav"): OpenApiTypes.BINARY,
            (200, "audio/flac"): OpenApiTypes.BINARY,
            202: OpenApiResponse(s.RenderSerializer, description="Being made: ask again."),
            409: OpenApiResponse(ErrorSerializer, description="The sample is not analysed yet."),
            422: OpenApiResponse(ErrorSerializer, description="The render failed (`message`)."),
        },
    )
    def get(self, request: Request, pk) -> HttpResponse:
        sample = get_object_or_404(library_selectors.samples_visible(user=request.user), pk=pk)
        query = s.RenderQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        target = selectors.render_target(user=request.user, **query.validated_data)
        try:
            render = render_request(user=request.user, sample=sample, **target)
        except RendersBusy as exc:
            raise Throttled(wait=exc.retry_after, detail=exc.message) from None
        if render.status == RenderStatus.READY:
            return stored_file_response(
                render.file, filename=selectors.render_filename(render), attachment=True
            )
        body = s.RenderSerializer(render).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": "1"})
