"""Organising endpoints: the owner's near-duplicate groups and keeping one of each."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Allowed
from library import selectors as library_selectors
from library.api.serializers import SampleSerializer
from organise import selectors
from organise.models import SmartCollection
from organise.services.duplicates import duplicates_dismiss, duplicates_keep_one
from organise.services.ratings import sample_rate
from organise.services.tags import tag_suggestion_accept, tag_suggestion_reject

MAX_GROUPS = 200


class DuplicateGroupSerializer(serializers.Serializer):
    samples = SampleSerializer(many=True, help_text="Oldest first: the first one was there first.")


class DuplicatesSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Groups listed (at most 200).")
    results = DuplicateGroupSerializer(many=True)


class ChoiceSerializer(serializers.Serializer):
    sample = serializers.UUIDField(help_text="A sample of the group (yours).")


class DuplicatesView(APIView):
    """Your near-identical sounds, grouped (biggest groups first, at most 200)."""

    permission_classes = [Allowed("audio:download")]

    @extend_schema(responses={200: DuplicatesSerializer})
    def get(self, request: Request) -> Response:
        groups = selectors.duplicate_groups(owner=request.user)[:MAX_GROUPS]
        context = {"request": request}
        body = [
            {"samples": SampleSerializer(group, many=True, context=context).data}
            for group in groups
        ]
        return Response({"count": len(body), "results": body})


class DuplicatesKeepView(APIView):
    """Keep ``sample`` and delete the other sounds of its group."""

    permission_classes = [Allowed("audio:delete")]

    @extend_schema(
        request=ChoiceSerializer,
        responses={
            200: inline_serializer(
                "KeptOne", {"kept": serializers.UUIDField(), "deleted": serializers.IntegerField()}
            )
        },
    )
    def post(self, request: Request) -> Response:
        data = ChoiceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        keep = get_object_or_404(
            library_selectors.samples_owned(user=request.user), pk=data.validated_data["sample"]
        )
        deleted = duplicates_keep_one(owner=request.user, keep=keep)
        return Response({"kept": str(keep.pk), "deleted": deleted})


class DuplicatesDismissView(APIView):
    """Not copies after all: the group's links go, every sample stays."""

    permission_classes = [Allowed("audio:edit")]

    @extend_schema(
        request=ChoiceSerializer,
        responses={200: inline_serializer("Unlinked", {"unlinked": serializers.IntegerField()})},
    )
    def post(self, request: Request) -> Response:
        data = ChoiceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sample = get_object_or_404(
            library_selectors.samples_owned(user=request.user), pk=data.validated_data["sample"]
        )
        return Response({"unlinked": duplicates_dismiss(owner=request.user, sample=sample)})


def keep_duplicate_requested(request: Request) -> bool:
    """Whether an upload asks to keep near-duplicates: ``keep_duplicate`` in the query or form.

    Anything DRF reads as false ("0", "false", absent) refuses them; a value
    that is neither true nor false is a 400 like any other bad field.
    """
    raw = request.query_params.get("keep_duplicate", request.data.get("keep_duplicate"))
    if raw in (None, ""):
        return False
    field = serializers.BooleanField()
    try:
        return field.to_internal_value(raw)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"keep_duplicate": exc.detail}) from None


class RatingSerializer(serializers.Serializer):
    favourite = serializers.BooleanField(required=False)
    rating = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=5,
        help_text="1-5 stars; null clears.",
    )


class RatingView(APIView):
    """Your favourite mark and stars for a sample you may open (yours or a public one)."""

    @extend_schema(responses={200: RatingSerializer})
    def get(self, request: Request, pk) -> Response:
        sample = get_object_or_404(library_selectors.samples_visible(user=request.user), pk=pk)
        favourite, rating = selectors.rating_of(user=request.user, sample=sample)
        return Response({"favourite": favourite, "rating": rating})

    @extend_schema(request=RatingSerializer, responses={200: RatingSerializer})
    def put(self, request: Request, pk) -> Response:
        sample = get_object_or_404(library_selectors.samples_visible(user=request.user), pk=pk)
        data = RatingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = sample_rate(user=request.user, sample=sample, **data.validated_data)
        return Response({"favourite": row.favourite, "rating": row.rating})

    patch = put


class TagSuggestionSerializer(serializers.Serializer):
    tag = serializers.CharField()
    score = serializers.FloatField(help_text="Evidence summed over neighbours, category and name.")
    reasons = serializers.ListField(child=serializers.CharField())


class TagAnswerSerializer(serializers.Serializer):
    tag = serializers.CharField(max_length=50)
    answer = serializers.ChoiceField(choices=("accept", "reject"))


class TagSuggestionsView(APIView):
    """Tags your sample probably deserves, from your own tagged samples; accept or reject one."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [Allowed("audio:edit")()]
        return super().get_permissions()

    @extend_schema(responses={200: TagSuggestionSerializer(many=True)})
    def get(self, request: Request, pk) -> Response:
        sample = get_object_or_404(library_selectors.samples_owned(user=request.user), pk=pk)
        found = selectors.tag_suggestions(owner=request.user, sample=sample)
        return Response(TagSuggestionSerializer(found, many=True).data)

    @extend_schema(request=TagAnswerSerializer, responses={200: TagSuggestionSerializer(many=True)})
    def post(self, request: Request, pk) -> Response:
        sample = get_object_or_404(library_selectors.samples_owned(user=request.user), pk=pk)
        data = TagAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tag, answer = data.validated_data["tag"], data.validated_data["answer"]
        try:
            if answer == "accept":
                sample = tag_suggestion_accept(actor=request.user, sample=sample, tag=tag)
            else:
                tag_suggestion_reject(actor=request.user, sample=sample, tag=tag)
        except ValueError:
            raise serializers.ValidationError({"tag": ["Not a tag."]}) from None
        found = selectors.tag_suggestions(owner=request.user, sample=sample)
        return Response(TagSuggestionSerializer(found, many=True).data)


class SmartCollectionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=120)
    query = serializers.DictField(
        child=serializers.CharField(),
        help_text="The library's parameters: q (words), sort, and any filter (bpm_min, tags...).",
    )
    sample_count = serializers.IntegerField(read_only=True)


def _smart_body(collection, count: int) -> dict:
    return {
        "id": collection.pk,
        "name": collection.name,
        "query": collection.query,
        "sample_count": count,
    }


class SmartCollectionListView(APIView):
    """Your saved searches with how many samples each finds now; POST saves one."""

    permission_classes = [Allowed("collection:create")]

    @extend_schema(responses={200: SmartCollectionSerializer(many=True)})
    def get(self, request: Request) -> Response:
        from organise import smart

        owned = list(SmartCollection.objects.filter(owner=request.user))
        found = smart.counts(owner=request.user, collections=owned)
        return Response([_smart_body(c, found[c.pk]) for c in owned])

    @extend_schema(request=SmartCollectionSerializer, responses={201: SmartCollectionSerializer})
    def post(self, request: Request) -> Response:
        from organise import smart
        from organise.services.smart import smart_collection_create

        data = SmartCollectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        query = smart.saved_query(data.validated_data["query"])
        collection = smart_collection_create(
            owner=request.user, name=data.validated_data["name"], query=query
        )
        count = smart.samples_found(owner=request.user, query=query).count()
        return Response(_smart_body(collection, count), status=201)


class SmartCollectionDetailView(APIView):
    """One saved search; DELETE forgets it (its samples stay)."""

    serializer_class = SmartCollectionSerializer
    permission_classes = [Allowed("collection:create")]

    @extend_schema(responses={200: SmartCollectionSerializer})
    def get(self, request: Request, pk: int) -> Response:
        from organise import smart

        collection = get_object_or_404(SmartCollection, owner=request.user, pk=pk)
        count = smart.samples_found(owner=request.user, query=collection.query).count()
        return Response(_smart_body(collection, count))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        from organise.services.smart import smart_collection_delete

        collection = get_object_or_404(SmartCollection, owner=request.user, pk=pk)
        smart_collection_delete(collection=collection)
        return Response(status=204)


class SmartCollectionSamplesView(generics.ListAPIView):
    """The samples a saved search finds now, in its order, a page at a time."""

    serializer_class = SampleSerializer
    permission_classes = [Allowed("collection:create")]

    def get_queryset(self):
        from organise import smart

        if getattr(self, "swagger_fake_view", False):
            return SmartCollection.objects.none()
        collection = get_object_or_404(
            SmartCollection, owner=self.request.user, pk=self.kwargs["pk"]
        )
        return smart.samples_found(owner=self.request.user, query=collection.query)


class SmartCollectionDownloadView(APIView):
    """Every sample the saved search finds now, as one zip."""

    permission_classes = [Allowed("audio:download")]

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int):
        from library.api.files import zip_response
        from organise import smart

        collection = get_object_or_404(SmartCollection, owner=request.user, pk=pk)
        samples = smart.samples_found(owner=request.user, query=collection.query)
        return zip_response(samples, filename=f"{collection.name}.zip")


# 100,000 points are about 8.5 MB of JSON and 3.3 MB gzipped. Only the caller's
# own data and no secret are in the answer, so compressing it gives BREACH nothing to read.
@method_decorator(gzip_page, name="dispatch")
class SoundMapView(APIView):
    """Your analysed samples placed in 2D by timbre: ``points`` of [id, x, y, category, name].

    The layout is drawn in the background; while it is, ``computing`` is true and
    ``points`` holds the previous layout (or nothing yet).
    """

    permission_classes = [Allowed("audio:download")]

    @extend_schema(
        responses={
            200: inline_serializer(
                "SoundMap",
                {"points": serializers.ListField(), "computing": serializers.BooleanField()},
            )
        }
    )
    def get(self, request: Request) -> Response:
        from organise.soundmap import map_points

        points, computing = map_points(owner=request.user)
        return Response({"points": points, "computing": computing})
