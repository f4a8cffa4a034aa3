"""Library API serializers: validation and output only; writes go through services."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from rest_framework import serializers

from library.models import (
    CATEGORY_CHOICES,
    CORRECTABLE,
    KEY_CHOICES,
    MODE_CHOICES,
    BatchJob,
    Collection,
    Sample,
    SampleStatus,
    Visibility,
)
from library.services.corrections import BPM_MAX, BPM_MIN

SAMPLE_FIELDS = (
    "id",
    "name",
    "description",
    "tags",
    "visibility",
    "status",
    "error",
    "original_filename",
    "format",
    "size_bytes",
    "duration",
    "sample_rate",
    "channels",
    "bit_depth",
    "bpm",
    "bpm_confidence",
    "key",
    "mode",
    "key_confidence",
    "loudness_lufs",
    "peak_db",
    "is_loop",
    "category",
    "corrections",
    "analyzer_version",
    "owner",
    "is_owner",
    "preview_url",
    "download_url",
    "created_at",
    "updated_at",
)


class SampleSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()
    is_owner = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    near_duplicate_of = serializers.SerializerMethodField(
        help_text="The id of your earlier sample this one copies (kept with keep_duplicate=1)."
    )
    favourite = serializers.SerializerMethodField(help_text="Your favourite mark.")
    rating = serializers.SerializerMethodField(help_text="Your stars, 1-5, or null.")
    machine = serializers.SerializerMethodField(
        help_text="The analyser's reading of each correctable field, whatever the producer set."
    )

    class Meta:
        model = Sample
        # ``machine`` reads the descriptors, which search hits leave unloaded.
        fields = (*SAMPLE_FIELDS, "machine", "near_duplicate_of", "favourite", "rating")
        read_only_fields = tuple(
            f for f in SAMPLE_FIELDS if f not in ("name", "description", "tags", "visibility")
        )

    def get_owner(self, sample: Sample) -> str:
        return sample.owner.display_name or sample.owner.email.split("@")[0]

    def get_near_duplicate_of(self, sample: Sample) -> str | None:
        try:
            copied = sample.fingerprint.near_duplicate_of_id
        except ObjectDoesNotExist:  # stored before fingerprints, or not decodable
            return None
        return str(copied) if copied else None

    # The reader's own marks, annotated by selectors.sample_annotations (organise).
    def get_favourite(self, sample: Sample) -> bool:
        return bool(getattr(sample, "my_favourite", False))

    def get_rating(self, sample: Sample) -> int | None:
        return getattr(sample, "my_rating", None) or None

    def get_is_owner(self, sample: Sample) -> bool:
        request = self.context.get("request")
        return bool(request and request.user.pk == sample.owner_id)

    def get_machine(self, sample: Sample) -> dict:
        reading = sample.descriptors or {}
        return {field: reading.get(field) for field in CORRECTABLE}

    def get_preview_url(self, sample: Sample) -> str | None:
        # An analysed short file gets its preview on first play (services.previews).
        if not sample.preview and sample.status != SampleStatus.READY:
            return None
        return reverse("v1:audio-preview", kwargs={"pk": sample.pk})

    def get_download_url(self, sample: Sample) -> str:
        return reverse("v1:audio-download", kwargs={"pk": sample.pk})


class SampleDetailSerializer(SampleSerializer):
    category_confidence = serializers.SerializerMethodField(
        help_text="How sure the analyser is of its category (0..1)."
    )
    category_top = serializers.SerializerMethodField(
        help_text="The analyser's three likeliest categories, as [category, probability]."
    )
    root_note = serializers.SerializerMethodField(
        help_text='The root note of a tonal one-shot, e.g. "C2"; null otherwise.'
    )

    class Meta(SampleSerializer.Meta):
        fields = (
            *SampleSerializer.Meta.fields,
            "category_confidence",
            "category_top",
            "root_note",
            "descriptors",
            "waveform",
        )

    def get_category_confidence(self, sample: Sample) -> float | None:
        return (sample.descriptors or {}).get("category_confidence")

    def get_category_top(self, sample: Sample) -> list[list]:
        return (sample.descriptors or {}).get("category_top") or []

    def get_root_note(self, sample: Sample) -> str | None:
        return (sample.descriptors or {}).get("root_note")


class SampleUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=30
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    # Corrections: the producer's value replaces the analyser's (which stays in ``machine``).
    category = serializers.ChoiceField(choices=CATEGORY_CHOICES, required=False)
    bpm = serializers.FloatField(
        min_value=BPM_MIN,
        max_value=BPM_MAX,
        allow_null=True,
        required=False,
        help_text="null: no tempo.",
    )
    key = serializers.ChoiceField(
        choices=KEY_CHOICES, allow_null=True, required=False, help_text="null: no key."
    )
    mode = serializers.ChoiceField(choices=MODE_CHOICES, allow_null=True, required=False)
    is_loop = serializers.BooleanField(required=False)
    reset = serializers.ListField(
        child=serializers.ChoiceField(choices=CORRECTABLE),
        required=False,
        help_text="Corrections to drop: those fields show the analyser's reading again.",
    )

    def corrections(self) -> dict:
        """The validated corrections, apart from the other changes."""
        return {f: self.validated_data[f] for f in CORRECTABLE if f in self.validated_data}

    def changes(self) -> dict:
        """The validated name, description, tags and visibility."""
        skip = {*CORRECTABLE, "reset"}
        return {f: v for f, v in self.validated_data.items() if f not in skip}


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    tags = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, help_text="Comma-separated."
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)


class BatchUploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(allow_empty_file=True), min_length=1)
    tags = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)


class BatchJobSerializer(serializers.ModelSerializer):
    samples = serializers.SerializerMethodField()

    class Meta:
        model = BatchJob
        fields = (
            "id",
            "kind",
            "status",
            "total",
            "done",
            "failed",
            "errors",
            "samples",
            "created_at",
            "finished_at",
        )

    def get_samples(self, job: BatchJob) -> list[dict]:
        return [
            {"id": str(s.pk), "name": s.name, "status": s.status, "error": s.error}
            for s in job.tracked_samples.all()
        ]


class CollectionSerializer(serializers.ModelSerializer):
    sample_count = serializers.IntegerField(read_only=True)
    owner = serializers.SerializerMethodField()
    is_owner = serializers.SerializerMethodField()

    class Meta:
        model = Collection
        fields = (
            "id",
            "name",
            "description",
            "visibility",
            "sample_count",
            "owner",
            "is_owner",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "sample_count", "owner", "is_owner", "created_at", "updated_at")

    def get_owner(self, collection: Collection) -> str:
        return collection.owner.display_name or collection.owner.email.split("@")[0]

    def get_is_owner(self, collection: Collection) -> bool:
        request = self.context.get("request")
        return bool(request and request.user.pk == collection.owner_id)


class CollectionDetailSerializer(CollectionSerializer):
    samples = serializers.SerializerMethodField()

    class Meta(CollectionSerializer.Meta):
        fields = (*CollectionSerializer.Meta.fields, "samples")

    def get_samples(self, collection: Collection) -> list[dict]:
        items = self.context["items"]
        return SampleSerializer(
            [item.sample for item in items], many=True, context=self.context
        ).data


class SampleIdsSerializer(serializers.Serializer):
    sample_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=1000)
