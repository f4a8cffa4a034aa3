"""Library endpoints: upload, batch, samples, downloads, collections."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Allowed, MethodPermissions
from library import selectors
from library.api import serializers as s
from library.api.files import stored_file_response, zip_response
from library.api.filters import SampleOrdering, samples_filtered
from library.models import Collection, Sample
from library.services import collections as collection_services
from library.services.analysis import sample_reanalyze
from library.services.batches import batch_job_refresh
from library.services.previews import sample_preview_ensure
from library.services.samples import sample_delete, sample_update
from library.services.uploads import SampleFields, batch_upload, sample_create, spooled_uploads
from organise.api.views import keep_duplicate_requested
from samplemind.errors import NotAllowed
from search.filters import registry


class UploadView(APIView):
    """Upload one audio file (multipart field ``file``); analysis starts in the background."""

    parser_classes = [MultiPartParser, FormParser]
    permission_classes = [Allowed("audio:upload")]
    openapi_errors = (409,)  # the file (or a near-duplicate: keep_duplicate=1) is in the library

    @extend_schema(
        request={"multipart/form-data": s.UploadSerializer}, responses={201: s.SampleSerializer}
    )
    def post(self, request: Request) -> Response:
        data = s.UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = SampleFields(
            name=data.validated_data.get("name") or None,
            description=data.validated_data.get("description"),
            tags=data.validated_data.get("tags"),
            visibility=data.validated_data["visibility"],
            keep_duplicate=keep_duplicate_requested(request),
        )
        with spooled_uploads([data.validated_data["file"]]) as (spooled,):
            sample = sample_create(owner=request.user, spooled=spooled, fields=fields)
        body = s.SampleSerializer(sample, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class BatchUploadView(APIView):
    """Upload several files (field ``files``) or zip archives of packs as one batch job."""

    # JSON is parsed only to refuse it with a 400 that says what to send instead.
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    permission_classes = [Allowed("audio:upload", "audio:batch")]
    openapi_errors = (409,)  # a file already in the library

    @extend_schema(
        request={"multipart/form-data": s.BatchUploadSerializer},
        responses={202: s.BatchJobSerializer},
    )
    def post(self, request: Request) -> Response:
        uploads = request.FILES.getlist("files") or request.FILES.getlist("file")
        if not uploads:
            message = "Send the audio files or zip archives as multipart form data in `files`."
            raise ValidationError({"files": [message]})
        options = {key: request.data[key] for key in ("tags", "visibility") if key in request.data}
        data = s.BatchUploadSerializer(data={**options, "files": uploads})
        data.is_valid(raise_exception=True)
        fields = SampleFields(
            tags=data.validated_data.get("tags"),
            visibility=data.validated_data["visibility"],
            keep_duplicate=keep_duplicate_requested(request),
        )
        with spooled_uploads(uploads) as spooled:
            job = batch_upload(owner=request.user, files=spooled, fields=fields)
        return Response(s.BatchJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class BatchJobView(generics.RetrieveAPIView):
    """A batch job's progress: counts, per-file errors and each sample's status."""

    serializer_class = s.BatchJobSerializer

    def get_queryset(self):
        return selectors.batch_jobs_owned(user=self.request.user).prefetch_related(
            "samples", "reanalysed"
        )

    def get_object(self):
        job = super().get_object()
        if job.finished_at is None:  # large jobs are not recounted after every analysis
            batch_job_refresh(job=job)
        return job


class SampleListView(generics.ListAPIView):
    """Your samples, newest first, with filters (status, category, bpm range, key, tags, ...)."""

    serializer_class = s.SampleSerializer
    filterset_class = SampleOrdering
    filter_parameters = staticmethod(registry.serializer_class)  # the search filters, shared

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Sample.objects.none()
        return selectors.sample_list(user=self.request.user)

    def filter_queryset(self, queryset):
        # The filters search takes, with the same validation and errors (a 400).
        filters = registry.parse(self.request.query_params)
        queryset = samples_filtered(queryset, filters, user=self.request.user)
        return super().filter_queryset(queryset)


class SampleDetailView(generics.RetrieveUpdateDestroyAPIView):
    """One sample: yours, or anybody's public one (read-only)."""

    serializer_class = s.SampleDetailSerializer
    permission_classes = [MethodPermissions]
    required_permissions = {
        "PUT": ("audio:edit",),
        "PATCH": ("audio:edit",),
        "DELETE": ("audio:delete",),
    }

    def get_queryset(self):
        return (
            selectors.samples_visible(user=self.request.user)
            .select_related("owner")
            .annotate(**selectors.sample_annotations(user=self.request.user))
        )

    @extend_schema(request=s.SampleUpdateSerializer)
    def update(self, request: Request, *args, **kwargs) -> Response:
        sample = self.get_object()
        data = s.SampleUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        sample = sample_update(
            sample=sample,
            actor=request.user,
            corrections=data.corrections(),
            reset=data.validated_data.get("reset", ()),
            **data.changes(),
        )
        return Response(self.get_serializer(sample).data)

    def perform_destroy(self, instance: Sample) -> None:
        sample_delete(sample=instance, actor=self.request.user, request=self.request)


class SampleFileView(APIView):
    """Download the original (``download``) or play the browser preview (``preview``)."""

    which = "download"

    def get_permissions(self):
        needs = ("audio:download",) if self.which == "download" else ()
        return [Allowed(*needs)()] if needs else super().get_permissions()

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk) -> FileResponse:
        sample = get_object_or_404(selectors.samples_visible(user=request.user), pk=pk)
        if self.which == "download":
            return stored_file_response(
                sample.file, filename=sample.original_filename, attachment=True, request=request
            )
        sample = sample_preview_ensure(sample=sample)
        if not sample.preview:
            raise Http404("The preview is not ready yet.")
        return stored_file_response(
            sample.preview, filename=f"{sample.name}.ogg", attachment=False, request=request
        )


class SampleReanalyzeView(APIView):
    """Analyse one of your samples again (e.g. after a failure)."""

    permission_classes = [Allowed("audio:analyze")]

    @extend_schema(request=None, responses={202: s.SampleSerializer})
    def post(self, request: Request, pk) -> Response:
        sample = get_object_or_404(selectors.samples_owned(user=request.user), pk=pk)
        sample_reanalyze(sample=sample)
        sample.refresh_from_db()
        body = s.SampleSerializer(sample, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter(
                "scope",
                enum=["owned", "public"],
                description="owned (default): your collections; public: everyone's public ones.",
            )
        ]
    )
)
class CollectionListView(generics.ListCreateAPIView):
    """Your collections (and public ones with ``?scope=public``); POST creates one."""

    serializer_class = s.CollectionSerializer
    permission_classes = [MethodPermissions]
    required_permissions = {"POST": ("collection:create",)}
    openapi_errors = (409,)  # a name the owner already uses

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Collection.objects.none()
        scope = self.request.query_params.get("scope") or "owned"
        if scope not in ("owned", "public"):
            raise ValidationError({"scope": ["Choose owned (your collections) or public."]})
        return selectors.collections_with_counts(user=self.request.user, scope=scope)

    def perform_create(self, serializer: s.CollectionSerializer) -> None:
        collection = collection_services.collection_create(
            owner=self.request.user, **serializer.validated_data
        )
        collection.sample_count = 0
        serializer.instance = collection


class CollectionDetailView(generics.RetrieveUpdateDestroyAPIView):
    """One collection with its samples in order."""

    serializer_class = s.CollectionDetailSerializer
    permission_classes = [MethodPermissions]
    openapi_errors = (409,)  # renamed to a name the owner already uses (PUT, PATCH)
    required_permissions = {
        "PUT": ("collection:edit",),
        "PATCH": ("collection:edit",),
        "DELETE": ("collection:delete",),
    }

    def get_queryset(self):
        return selectors.collections_with_counts(user=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "_collection", None) is not None:
            context["items"] = selectors.collection_items(
                collection=self._collection, user=self.request.user
            )
        return context

    def get_object(self):
        self._collection = super().get_object()
        return self._collection

    def perform_update(self, serializer) -> None:
        serializer.instance = collection_services.collection_update(
            collection=serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance: Collection) -> None:
        collection_services.collection_delete(
            collection=instance, actor=self.request.user, request=self.request
        )


def _own_collection(request: Request, pk: int) -> Collection:
    collection = get_object_or_404(selectors.collections_visible(user=request.user), pk=pk)
    if collection.owner_id != request.user.pk:
        raise NotAllowed("Only the owner can change this collection.")
    return collection


def _change_samples(request: Request, pk: int, change) -> object:
    """Run a collection service on the owner's collection with the body's ``sample_ids``."""
    data = s.SampleIdsSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return change(
        collection=_own_collection(request, pk),
        actor=request.user,
        sample_ids=data.validated_data["sample_ids"],
    )


class CollectionSamplesView(APIView):
    """POST adds samples (``sample_ids``) at the end; DELETE removes them."""

    permission_classes = [Allowed("collection:edit")]
    openapi_errors = {"DELETE": (400,)}  # DELETE reads ``sample_ids`` from its body too

    @extend_schema(request=s.SampleIdsSerializer, responses={200: dict})
    def post(self, request: Request, pk: int) -> Response:
        added = _change_samples(request, pk, collection_services.collection_add_samples)
        return Response({"added": added})

    @extend_schema(request=s.SampleIdsSerializer, responses={200: dict})
    def delete(self, request: Request, pk: int) -> Response:
        removed = _change_samples(request, pk, collection_services.collection_remove_samples)
        return Response({"removed": removed})


class CollectionOrderView(APIView):
    """PUT the full list of ``sample_ids`` in the new order."""

    permission_classes = [Allowed("collection:edit")]

    @extend_schema(request=s.SampleIdsSerializer, responses={204: None})
    def put(self, request: Request, pk: int) -> Response:
        _change_samples(request, pk, collection_services.collection_reorder)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollectionDownloadView(APIView):
    """The collection's original files, in order, as one zip."""

    permission_classes = [Allowed("audio:download")]

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> FileResponse:
        collection = get_object_or_404(selectors.collections_visible(user=request.user), pk=pk)
        items = selectors.collection_items(collection=collection, user=request.user)
        name = (
            "".join(c if c.isalnum() or c in " -_" else "_" for c in collection.name)
            or "collection"
        )
        return zip_response([item.sample for item in items], filename=f"{name}.zip")
