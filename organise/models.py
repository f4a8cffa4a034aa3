"""What organising a library adds to its samples: fingerprints and near-duplicate links.

Kept beside the library's tables rather than in them, one row per sample.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from pgvector.django import VectorField

from library.models import Sample
from organise.fingerprint import SKETCH_DIM


class SampleFingerprint(models.Model):
    """A sample's audio fingerprint, and the earlier sample it copies (a near-duplicate)."""

    sample = models.OneToOneField(
        Sample, primary_key=True, on_delete=models.CASCADE, related_name="fingerprint"
    )
    # The owner again, so candidates are looked up in one person's library only, by an
    # exact scan of its sketches (48 numbers each): no approximate index to miss a copy.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sketch = VectorField(dimensions=SKETCH_DIM)
    frames = models.BinaryField()
    near_duplicate_of = models.ForeignKey(
        Sample, null=True, blank=True, on_delete=models.SET_NULL, related_name="near_duplicates"
    )
    distance = models.FloatField(null=True, blank=True, help_text="dB, see organise.fingerprint.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=("owner", "near_duplicate_of")),
        ]

    def __str__(self) -> str:
        return f"fingerprint of {self.sample_id}"


class SampleRating(models.Model):
    """One person's favourite mark and stars (1-5) for a sample they may open."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="ratings")
    favourite = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "sample"), name="organise_rating_unique"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__range=(1, 5)),
                name="organise_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=("user", "favourite")),
            models.Index(fields=("user", "rating")),
        ]

    def __str__(self) -> str:
        return (
            f"{self.user_id} rates {self.sample_id}: {self.rating} {'♥' if self.favourite else ''}"
        )


class TagRejection(models.Model):
    """A tag the owner said no to for one sample: never suggested for it again."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="+")
    tag = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("sample", "tag"), name="organise_tag_rejection_unique")
        ]

    def __str__(self) -> str:
        return f"not {self.tag} for {self.sample_id}"


class SmartCollection(models.Model):
    """A saved library search (words, filters, sort) whose samples are found again on each visit."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="smart_collections"
    )
    name = models.CharField(max_length=120)
    # The library page's own query parameters: q, sort and the registry's filters.
    query = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=("owner", "name"), name="organise_smart_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
