"""A producer's project tempo and key, matched renders, kits and loop slices.

Everything here points at library samples and never changes them: a render is
a new file counted against its requester's storage, a slice is a sample of its
own linked to its loop by :class:`Slice`.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from library.models import KEY_CHOICES, MODE_CHOICES, Visibility

BPM_MIN, BPM_MAX = 20.0, 400.0


class ProjectSettings(models.Model):
    """The tempo and key of the track a producer is working on, remembered per account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="studio_project",
    )
    bpm = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(BPM_MIN), MaxValueValidator(BPM_MAX)],
    )
    key = models.CharField(max_length=2, choices=KEY_CHOICES, null=True, blank=True)  # noqa: DJ001
    mode = models.CharField(max_length=5, choices=MODE_CHOICES, null=True, blank=True)  # noqa: DJ001
    # With matching on, pages play and drag loops at ``bpm`` and tonal sounds in ``key``.
    matching = models.BooleanField(default=False)
    # Drums are never pitched unless the producer asks for it.
    pitch_drums = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "project tempo and key"
        verbose_name_plural = "project tempos and keys"

    def __str__(self) -> str:
        key = f"{self.key} {self.mode or ''}".strip() if self.key else "no key"
        return f"{self.bpm or '-'} BPM, {key}"


class RenderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RENDERING = "rendering", "Rendering"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class RenderFormat(models.TextChoices):
    WAV = "wav", "WAV (24-bit)"
    FLAC = "flac", "FLAC (24-bit)"


def render_upload_to(instance: Render, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:8]
    return f"renders/{instance.owner_id}/{instance.pk.hex[:2]}/{instance.pk.hex}{suffix}"


class Render(models.Model):
    """A sample stretched and shifted to a tempo and key: a cache, counted as its requester's.

    One per (requester, sample, analyser version, bpm, key, mode, pitch_drums,
    format). ``tempo_ratio`` and ``semitones`` record the plan it was made
    with; when a correction of the sample's tempo or key changes the plan, the
    render is made again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_renders"
    )
    sample = models.ForeignKey("library.Sample", on_delete=models.CASCADE, related_name="+")
    analyzer_version = models.CharField(max_length=20, blank=True)
    bpm = models.FloatField(null=True, blank=True)
    key = models.CharField(max_length=2, choices=KEY_CHOICES, null=True, blank=True)  # noqa: DJ001
    mode = models.CharField(max_length=5, choices=MODE_CHOICES, null=True, blank=True)  # noqa: DJ001
    pitch_drums = models.BooleanField(default=False)
    format = models.CharField(max_length=4, choices=RenderFormat.choices)

    status = models.CharField(
        max_length=10, choices=RenderStatus.choices, default=RenderStatus.PENDING
    )
    tempo_ratio = models.FloatField(default=1.0)
    semitones = models.SmallIntegerField(default=0)
    notes = models.JSONField(default=list, blank=True)
    file = models.FileField(upload_to=render_upload_to, max_length=300, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    duration = models.FloatField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="Time the render took.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=(
                    "owner",
                    "sample",
                    "analyzer_version",
                    "bpm",
                    "key",
                    "mode",
                    "pitch_drums",
                    "format",
                ),
                name="studio_render_unique_target",
                nulls_distinct=False,
            ),
        ]
        indexes = [models.Index(fields=("owner", "status", "last_used_at"))]

    def __str__(self) -> str:
        return f"{self.sample_id} at {self.bpm or '-'} BPM {self.key or ''} {self.format}"


PADS = 16
# General MIDI's drum map starts at C1 (36): pad 1 plays 36, pad 16 plays 51.
FIRST_PAD_NOTE = 36


class Kit(models.Model):
    """Sixteen pads of samples for a sampler; saved, listed and shared like collections."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_kits"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=("owner", "name"), name="studio_kit_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class KitPad(models.Model):
    """One pad of a kit (0..15) and the sample it plays."""

    kit = models.ForeignKey(Kit, on_delete=models.CASCADE, related_name="pads")
    pad = models.PositiveSmallIntegerField(validators=[MaxValueValidator(PADS - 1)])
    sample = models.ForeignKey("library.Sample", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ("pad",)
        constraints = [
            models.UniqueConstraint(fields=("kit", "pad"), name="studio_kit_pad_unique"),
            models.CheckConstraint(
                condition=models.Q(pad__lt=PADS), name="studio_kit_pad_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kit_id} pad {self.pad + 1}"

    @property
    def note(self) -> int:
        """The MIDI note that plays this pad."""
        return FIRST_PAD_NOTE + self.pad


class Slice(models.Model):
    """A sample cut from a loop: where it sat in the loop, and which loop."""

    loop = models.ForeignKey("library.Sample", on_delete=models.CASCADE, related_name="+")
    # A foreign key, not one-to-one: two identical hits are one sample, sliced twice.
    sample = models.ForeignKey("library.Sample", on_delete=models.CASCADE, related_name="+")
    index = models.PositiveSmallIntegerField()
    start = models.FloatField(help_text="Seconds into the loop.")
    end = models.FloatField(help_text="Seconds into the loop.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("loop", "index")
        constraints = [
            models.UniqueConstraint(fields=("loop", "index"), name="studio_slice_unique_index")
        ]

    def __str__(self) -> str:
        return f"{self.loop_id} slice {self.index + 1}"
