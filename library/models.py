"""Samples, their analysis history, collections and batch jobs.

Every analysis descriptor lives in ``Sample.descriptors`` (JSONB); the ones
people filter on are promoted to indexed columns (Freesound's layout).
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from pgvector.django import VectorField

from library.analysis import CATEGORIES, EMBEDDING_DIM


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private"
    PUBLIC = "public", "Public"


class SampleStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ANALYZING = "analyzing", "Analysing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


KEY_CHOICES = [
    (name, name) for name in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
]
MODE_CHOICES = [("major", "major"), ("minor", "minor")]
CATEGORY_CHOICES = [(name, name.replace("_", " ").capitalize()) for name in CATEGORIES]
# Promoted fields a producer may correct (``Sample.corrections``).
CORRECTABLE = ("category", "bpm", "key", "mode", "is_loop")


def sample_upload_to(instance: Sample, filename: str) -> str:
    # Stored names are ours (the original name is kept in a field): no collisions,
    # nothing a user typed ends up in a path.
    suffix = PurePath(filename).suffix.lower()[:8]
    return f"samples/{instance.owner_id}/{instance.pk.hex[:2]}/{instance.pk.hex}{suffix}"


def preview_upload_to(instance: Sample, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:8]
    return f"previews/{instance.owner_id}/{instance.pk.hex[:2]}/{instance.pk.hex}{suffix}"


class Sample(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="samples"
    )
    batch = models.ForeignKey(
        "BatchJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="samples"
    )
    file = models.FileField(upload_to=sample_upload_to, max_length=300)
    original_filename = models.CharField(max_length=255)
    # Where the file sat in the folder or zip it was uploaded from ("Drums/Kicks/kick.wav"),
    # so a zip download rebuilds the folders; empty for a file sent on its own.
    source_path = models.CharField(max_length=500, blank=True, default="")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    format = models.CharField(max_length=8)
    duration = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    bit_depth = models.PositiveSmallIntegerField(null=True, blank=True)

    status = models.CharField(
        max_length=10, choices=SampleStatus.choices, default=SampleStatus.PENDING
    )
    error = models.TextField(blank=True)
    analysis_attempts = models.PositiveSmallIntegerField(default=0)
    analysis_started_at = models.DateTimeField(null=True, blank=True)
    analyzer_version = models.CharField(max_length=20, blank=True)

    bpm = models.FloatField(null=True, blank=True)
    bpm_confidence = models.FloatField(null=True, blank=True)
    # None, not "", means "no key": the API contract reports null for atonal sounds.
    key = models.CharField(max_length=2, choices=KEY_CHOICES, null=True, blank=True)  # noqa: DJ001
    mode = models.CharField(max_length=5, choices=MODE_CHOICES, null=True, blank=True)  # noqa: DJ001
    key_confidence = models.FloatField(null=True, blank=True)
    loudness_lufs = models.FloatField(null=True, blank=True)
    peak_db = models.FloatField(null=True, blank=True)
    is_loop = models.BooleanField(null=True, blank=True)
    category = models.CharField(  # noqa: DJ001 - null until analysed
        max_length=16, choices=CATEGORY_CHOICES, null=True, blank=True
    )
    descriptors = models.JSONField(default=dict, blank=True)
    # The producer's values ({field: value}) for CORRECTABLE fields; the columns
    # above hold them in place of the analyser's, which stay in ``descriptors``.
    corrections = models.JSONField(default=dict, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIM, null=True, blank=True)

    preview = models.FileField(upload_to=preview_upload_to, max_length=300, blank=True)
    waveform = models.JSONField(default=list, blank=True, help_text="Peaks, 0..1, for drawing.")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("owner", "sha256"), name="library_sample_unique_content"
            ),
        ]
        indexes = [
            models.Index(fields=("owner", "status")),
            models.Index(fields=("owner", "-created_at")),
            models.Index(fields=("category",)),
            models.Index(fields=("bpm",)),
            models.Index(fields=("key", "mode")),
            models.Index(fields=("status", "analysis_started_at")),
            GinIndex(fields=("tags",), name="library_sample_tags_gin"),
        ]

    def __str__(self) -> str:
        return self.name


class SampleDeletion(models.Model):
    """A deleted sample's upload, kept so that usage counted from the samples stays true.

    Uploads a day are the samples created today plus these rows for samples
    created today and deleted since: deleting and uploading again does not
    reset the daily quota. Written in the same transaction as the deletion.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sample_id = models.UUIDField()
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    uploaded_at = models.DateTimeField()
    deleted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-deleted_at",)
        indexes = [models.Index(fields=("owner", "uploaded_at"))]

    def __str__(self) -> str:
        return f"{self.sample_id} deleted {self.deleted_at:%Y-%m-%d %H:%M}"


class AnalysisResult(models.Model):
    """One analysis run of a sample; the history survives re-analysis."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="analyses")
    analyzer_version = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=SampleStatus.choices)
    descriptors = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.sample_id} {self.analyzer_version} {self.status}"


class Collection(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    samples = models.ManyToManyField(Sample, through="CollectionItem", related_name="collections")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=("owner", "name"), name="library_collection_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CollectionItem(models.Model):
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="items")
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("position", "added_at")
        constraints = [
            models.UniqueConstraint(
                fields=("collection", "sample"), name="library_collection_item_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.collection_id}#{self.position}"


class BatchKind(models.TextChoices):
    UPLOAD = "upload", "Upload"
    IMPORT = "import", "Import"
    REANALYZE = "reanalyze", "Re-analyse"
    EXPORT = "export", "Export"


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BatchJob(models.Model):
    """Several files handled together; counts are recomputed from the samples, never drift."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="batch_jobs"
    )
    kind = models.CharField(max_length=10, choices=BatchKind.choices)
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text='[{"file": ..., "error": ...}]')
    # A re-analysis job follows samples that already belong to their upload's
    # job, so it lists them here instead of through ``Sample.batch``.
    reanalysed = models.ManyToManyField(Sample, blank=True, related_name="reanalysis_jobs")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M} ({self.done}/{self.total})"

    @property
    def tracked_samples(self) -> models.Manager:
        """The samples whose analysis this job follows: the ones it made, or re-queued."""
        return self.reanalysed if self.kind == BatchKind.REANALYZE else self.samples
