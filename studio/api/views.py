"""Studio endpoints: project tempo and key, matched renders, kits, slices."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Allowed, MethodPermissions
from library import selectors as library_selectors
from library.api.files import stored_file_response
from samplemind.openapi import ErrorSerializer
from studio import selectors
from studio.api import serializers as s
from studio.errors import NotAnalysed, RendersBusy
from studio.models import Kit, RenderStatus
from studio.services import kits as kit_services
from studio.services import renders as render_services
from studio.services import slices as slice_services
from studio.services.project import project_update
from studio.services.renders import render_request
from studio.services.slices import loop_slice_points


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


def _scope_parameter() -> OpenApiParameter:
    return OpenApiParameter(
        "scope",
        enum=["owned", "public"],
        description="owned (default): your kits; public: everyone's public ones.",
    )


@extend_schema_view(get=extend_schema(parameters=[_scope_parameter()]))
class KitListView(generics.ListCreateAPIView):
    """Your kits (and public ones with ``?scope=public``); POST creates one."""

    serializer_class = s.KitSerializer
    permission_classes = [MethodPermissions]
    required_permissions = {"POST": ("collection:create",)}
    openapi_errors = (409,)  # a name the owner already uses

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Kit.objects.none()
        scope = self.request.query_params.get("scope", "owned")
        if scope not in ("owned", "public"):
            raise ValidationError({"scope": ["owned or public."]})
        public = scope == "public"
        return selectors.kits_with_counts(
            user=self.request.user, scope="public" if public else "owned"
        )

    def perform_create(self, serializer: s.KitSerializer) -> None:
        kit = kit_services.kit_create(owner=self.request.user, **serializer.validated_data)
        kit.pad_count = 0
        serializer.instance = kit


class KitDetailView(generics.RetrieveUpdateDestroyAPIView):
    """One kit with its sixteen pads (empty pads left out)."""

    serializer_class = s.KitDetailSerializer
    permission_classes = [MethodPermissions]
    openapi_errors = (409,)  # renamed to a name the owner already uses
    required_permissions = {
        "PUT": ("collection:edit",),
        "PATCH": ("collection:edit",),
        "DELETE": ("collection:delete",),
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Kit.objects.none()
        return selectors.kits_with_counts(user=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        kit = getattr(self, "_kit", None)
        if kit is not None:
            context["pads"] = selectors.kit_pads(kit=kit, user=self.request.user)
        return context

    def get_object(self):
        self._kit = super().get_object()
        return self._kit

    def perform_update(self, serializer) -> None:
        serializer.instance = kit_services.kit_update(
            kit=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance: Kit) -> None:
        kit_services.kit_delete(kit=instance, actor=self.request.user)


def _kit(request: Request, pk: int) -> Kit:
    return get_object_or_404(selectors.kits_visible(user=request.user), pk=pk)


class KitPadsView(APIView):
    """PUT samples on pads: ``{"pads": [{"pad": 1, "sample_id": "..."}]}``; null empties one."""

    permission_classes = [Allowed("collection:edit")]

    @extend_schema(request=s.KitPadsSerializer, responses={200: s.KitPadSerializer(many=True)})
    def put(self, request: Request, pk: int) -> Response:
        kit = _kit(request, pk)
        data = s.KitPadsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kit_services.kit_set_pads(kit=kit, actor=request.user, pads=data.assignments())
        pads = selectors.kit_pads(kit=kit, user=request.user)
        return Response(s.KitPadSerializer(pads, many=True).data)


class KitSuggestionsView(APIView):
    """ "Complete this kit": per drum category, the sounds nearest a seed sound.

    The seed is ``?seed=`` (a sample you may open) or the kit's first pad;
    only samples you may open are suggested, none already on the kit.
    """

    permission_classes = [Allowed("search:similar")]

    @extend_schema(
        parameters=[s.SuggestionQuerySerializer],
        responses={
            200: s.SuggestionsSerializer,
            409: OpenApiResponse(ErrorSerializer, description="No seed, or not analysed yet."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        kit = _kit(request, pk)
        query = s.SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        pads = selectors.kit_pads(kit=kit, user=request.user)
        seed_id = query.validated_data.get("seed")
        if seed_id is not None:
            visible = library_selectors.samples_visible(user=request.user)
            seed = get_object_or_404(visible, pk=seed_id)
        elif pads:
            seed = pads[0].sample
            seed.refresh_from_db(fields=["embedding"])
        else:
            raise NotAnalysed("Put a sound on a pad, or name a seed, to complete the kit from.")
        if seed.embedding is None:
            raise NotAnalysed("The seed sound is not analysed yet.")
        found = selectors.kit_suggestions(
            user=request.user,
            seed=seed,
            per_category=query.validated_data["per_category"],
            exclude=[pad.sample_id for pad in pads],
        )
        suggestions = {
            category: s.PadSampleSerializer(samples, many=True).data
            for category, samples in found.items()
        }
        body = {"seed": s.PadSampleSerializer(seed).data, "suggestions": suggestions}
        return Response(body)


class KitExportView(APIView):
    """The kit for a sampler, as a zip: ``sfz``, ``dspreset`` (Decent Sampler), ``adg``
    (Ableton Live 12 Drum Rack) or ``zip``.

    Each holds the samples (``Samples/``), ``kit.json`` and ``kit.csv``; sfz and
    dspreset add the kit (pad 1 on C1 = MIDI 36 .. pad 16 on 51) and, for each
    melodic one-shot, an instrument across the keyboard from its root note. adg
    is laid out as a piece of Live's User Library (the rack in
    ``Presets/Instruments/Drum Rack/``, samples in ``Samples/Imported/SampleMind/``).
    """

    permission_classes = [Allowed("audio:download")]
    content_negotiation_class = AudioFormatNegotiation

    @extend_schema(
        parameters=[s.ExportQuerySerializer],
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        kit = _kit(request, pk)
        query = s.ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = query.validated_data["format"]
        pads = selectors.kit_pads(kit=kit, user=request.user)
        bundle = tempfile.TemporaryFile()
        kit_services.kit_write_export(kit, pads, fmt, bundle)
        bundle.seek(0)
        name = f"{kit_services.exports.safe_name(kit.name)} ({fmt}).zip"
        return FileResponse(
            bundle, as_attachment=True, filename=name, content_type="application/zip"
        )


class LoopSlicesView(APIView):
    """A loop's cut points and slices. GET previews the cuts; POST keeps slices as samples.

    POST ``{"points": [0.0, 0.5, ...]}`` (seconds; default: the loop's onsets)
    stores each slice as a new sample (analysed like an upload, counted against
    uploads and storage) linked to the loop; slicing again replaces the links.
    """

    permission_classes = [MethodPermissions]
    required_permissions = {"GET": ("audio:download",), "POST": ("audio:upload",)}
    openapi_errors = {"GET": (409,), "POST": (409,)}  # the loop is not analysed yet

    @extend_schema(responses={200: s.SlicesSerializer})
    def get(self, request: Request, pk) -> Response:
        loop = get_object_or_404(library_selectors.samples_visible(user=request.user), pk=pk)
        points = loop_slice_points(loop=loop)
        slices = selectors.loop_slices(loop=loop, user=request.user)
        return Response(s.SlicesSerializer({"points": points, "slices": slices}).data)

    @extend_schema(request=s.SlicePointsSerializer, responses={201: s.SlicesSerializer})
    def post(self, request: Request, pk) -> Response:
        loop = get_object_or_404(library_selectors.samples_visible(user=request.user), pk=pk)
        data = s.SlicePointsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        points = data.validated_data.get("points")
        slice_services.loop_slice(owner=request.user, loop=loop, points=points)
        slices = selectors.loop_slices(loop=loop, user=request.user)
        body = {"points": [item.start for item in slices], "slices": slices}
        return Response(s.SlicesSerializer(body).data, status=status.HTTP_201_CREATED)


class CollectionRenderView(APIView):
    """The collection's sounds at a tempo and key as one zip; 202 while they are made.

    The same parameters and rules as ``audio/{id}/render``, for every analysed
    sound in the collection you may open (at most your plan's batch size).
    The zip numbers the files in collection order; ``FAILED.txt`` names those
    left out.
    """

    permission_classes = [Allowed("audio:download")]
    content_negotiation_class = AudioFormatNegotiation

    @extend_schema(
        parameters=[s.RenderQuerySerializer],
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            202: OpenApiResponse(s.CollectionRenderSerializer, description="Ask again."),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        collection = get_object_or_404(
            library_selectors.collections_visible(user=request.user), pk=pk
        )
        query = s.RenderQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        target = selectors.render_target(user=request.user, **query.validated_data)
        items = library_selectors.collection_items(collection=collection, user=request.user)
        samples = [item.sample for item in items]
        renders = render_services.collection_render_request(
            user=request.user, samples=samples, **target
        )
        counts = {status: 0 for status in RenderStatus.values}
        for render in renders:
            counts[render.status] += 1
        waiting = counts[RenderStatus.PENDING] + counts[RenderStatus.RENDERING]
        if waiting:
            ready = sum(1 for sample in samples if sample.status == "ready")
            body = {
                "total": ready,
                "ready": counts[RenderStatus.READY],
                "waiting": waiting,
                "failed": ready - len(renders) + counts[RenderStatus.FAILED],
            }
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": "2"})
        bundle = tempfile.TemporaryFile()
        render_services.renders_write_zip(renders, samples, bundle)
        bundle.seek(0)
        name = kit_services.exports.safe_name(collection.name)
        label = selectors.target_label(**{k: target[k] for k in ("bpm", "key", "mode")})
        return FileResponse(
            bundle,
            as_attachment=True,
            filename=f"{name} ({label}).zip",
            content_type="application/zip",
        )
