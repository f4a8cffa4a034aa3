"""A producer's project tempo and key, matched renders, kits and loop slices.

Everything here points at library samples and never changes them: a render is
a new file counted against its requester's storage, a slice is a sample of its
own linked to its loop by :class:`Slice`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from library.models import KEY_CHOICES, MODE_CHOICES

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
