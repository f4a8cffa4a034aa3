"""Reads from the library. Every query that returns samples to a person goes through here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone
from pgvector.django import CosineDistance

from accounts.models import User
from accounts.rbac import quota
from library.models import (
    BatchJob,
    Collection,
    CollectionItem,
    Sample,
    SampleDeletion,
    SampleStatus,
    Visibility,
)


def sample_by_content(*, owner: User, sha256: str) -> Sample | None:
    return Sample.objects.filter(owner=owner, sha256=sha256).first()


def uploads_today(*, owner: User) -> int:
    """Samples stored today (UTC), counting those deleted since: what the daily quota limits.

    Refused uploads (duplicates, invalid audio, over quota) never made a sample
    and do not count.
    """
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    surviving = Sample.objects.filter(owner=owner, created_at__gte=start).count()
    deleted = SampleDeletion.objects.filter(owner=owner, uploaded_at__gte=start).count()
    return surviving + deleted


def contents_owned(*, owner: User, sha256s: list[str]) -> set[str]:
    """Which of these digests the owner's library already holds (duplicates to be refused)."""
    return set(
        Sample.objects.filter(owner=owner, sha256__in=sha256s).values_list("sha256", flat=True)
    )


def samples_by_content(*, owner: User, sha256s: list[str]) -> dict[str, UUID]:
    """The owner's sample id for each of these digests the library already holds."""
    rows = Sample.objects.filter(owner=owner, sha256__in=sha256s).values_list("sha256", "pk")
    return dict(rows)


def files_held(*, owner: User, files: list[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which ``(file name, size)`` pairs name and size one of the owner's samples.

    A cheap guess at duplicates before a pack is expanded; only content decides.
    """
    sizes = {size for _name, size in files}
    if not sizes:
        return set()
    held = Sample.objects.filter(owner=owner, size_bytes__in=sizes)
    return set(held.values_list("original_filename", "size_bytes")) & set(files)


def upload_request_limit(*, user: User | None, single_file: bool = False) -> int:
    """The most bytes one upload request from ``user`` may carry.

    One file's limit (``SAMPLEMIND_MAX_UPLOAD_BYTES``) for each file the request
    may hold (one for a single-file endpoint or an anonymous sender, else the
    plan's batch size), plus room for the multipart framing, and never more
    than ``SAMPLEMIND_MAX_REQUEST_BYTES``.
    """
    files = 1
    if not single_file and user is not None and user.is_authenticated:
        batch_size = quota(user, "batch_size")
        files = max(1, settings.DATA_UPLOAD_MAX_NUMBER_FILES if batch_size is None else batch_size)
    framing = 64 * 1024 + 4096 * files  # part headers and the form's text fields
    limit = settings.SAMPLEMIND_MAX_UPLOAD_BYTES * files + framing
    return min(limit, settings.SAMPLEMIND_MAX_REQUEST_BYTES)


def storage_used(*, owner: User) -> int:
    return Sample.objects.filter(owner=owner).aggregate(total=Sum("size_bytes"))["total"] or 0


def samples_owned(*, user: User) -> QuerySet[Sample]:
    return Sample.objects.filter(owner=user)


def samples_visible(*, user: User) -> QuerySet[Sample]:
    """The user's own samples and everyone's public ones: what a person may read."""
    if not user.is_authenticated:
        return Sample.objects.filter(visibility=Visibility.PUBLIC)
    return Sample.objects.filter(Q(owner=user) | Q(visibility=Visibility.PUBLIC))


# Apps above the library add a person's own columns to sample queries here (organise
# registers my_rating and my_favourite), so the library never imports them.
SAMPLE_ANNOTATIONS: list[Callable[..., dict]] = []


def sample_annotations(*, user: User) -> dict:
    """The registered per-person annotations for samples read by ``user``."""
    found: dict = {}
    for provider in SAMPLE_ANNOTATIONS:
        found |= provider(user=user)
    return found


def sample_list(*, user: User) -> QuerySet[Sample]:
    """The user's library, with what a list page shows fetched in the same query."""
    return (
        samples_owned(user=user)
        .select_related("owner", "fingerprint")
        .defer("embedding", "fingerprint__frames", "fingerprint__sketch")
        .annotate(**sample_annotations(user=user))
    )


def samples_matching_text(samples: QuerySet[Sample], text: str) -> QuerySet[Sample]:
    """``samples`` named like ``text`` or tagged with it: the library page's quick find.

    Blank text matches everything; tags are stored lower-case.
    """
    text = text.strip()
    if not text:
        return samples
    return samples.filter(Q(name__icontains=text) | Q(tags__contains=[text.lower()]))


def samples_for_analysis(*, sample_ids: Sequence, claimed_at: datetime) -> QuerySet[Sample]:
    """The samples of ``sample_ids`` claimed at ``claimed_at``, with ``steerable``: whether
    their owner corrected any analysed sample's category.

    Steering has nothing to learn from a library without such corrections (the
    usual case), and one query tells both.
    """
    corrected = Sample.objects.filter(
        owner_id=OuterRef("owner_id"), corrections__has_key="category", embedding__isnull=False
    )
    return Sample.objects.annotate(steerable=Exists(corrected)).filter(
        pk__in=sample_ids, status=SampleStatus.ANALYZING, analysis_started_at=claimed_at
    )


def exact_cosine_distance(vector: Sequence[float]) -> ExpressionWrapper:
    """Cosine distance of ``embedding`` to ``vector``, ordered exactly (never by an index).

    Written as ``distance + 0`` so PostgreSQL cannot use an HNSW index: that
    would search everyone's samples approximately and may drop one owner's few,
    all the more when the index holds many dead rows.
    """
    return ExpressionWrapper(
        CosineDistance("embedding", list(vector)) + Value(0.0), output_field=FloatField()
    )


def corrected_neighbours(
    *,
    owner_id: int,
    vector: Sequence[float],
    max_distance: float,
    k: int,
    exclude: UUID | None = None,
) -> list[tuple[str, float]]:
    """The owner's samples with a corrected category nearest ``vector``: (category, distance).

    At most ``k``, each under ``max_distance`` (cosine), nearest first.
    """
    distance = exact_cosine_distance(vector)
    rows = (
        Sample.objects.filter(
            owner_id=owner_id, corrections__has_key="category", embedding__isnull=False
        )
        .exclude(pk=exclude)
        .annotate(distance=distance)
        .filter(distance__lt=max_distance)
        .order_by("distance")
        .values_list("category", "distance")[:k]
    )
    return [(category, float(d)) for category, d in rows]


def collections_visible(*, user: User) -> QuerySet[Collection]:
    if not user.is_authenticated:
        return Collection.objects.filter(visibility=Visibility.PUBLIC)
    return Collection.objects.filter(Q(owner=user) | Q(visibility=Visibility.PUBLIC))


def collections_owned(*, user: User) -> QuerySet[Collection]:
    return Collection.objects.filter(owner=user)


def collection_items(*, collection: Collection, user: User) -> QuerySet[CollectionItem]:
    """A collection's samples in order, leaving out others' private samples."""
    visible = samples_visible(user=user).values("pk")
    return (
        CollectionItem.objects.filter(collection=collection, sample__in=visible)
        .select_related("sample", "sample__owner")
        .defer("sample__embedding")
        .order_by("position", "added_at")
    )


def collections_with_counts(*, user: User, scope: str = "visible") -> QuerySet[Collection]:
    """Collections with ``sample_count``: how many of their samples ``user`` may open.

    ``scope``: "visible" (yours and public ones), "owned" or "public" (public
    ones only, yours included only when public).
    """
    if scope == "owned":
        collections = collections_owned(user=user)
    elif scope == "public":
        collections = Collection.objects.filter(visibility=Visibility.PUBLIC)
    else:
        collections = collections_visible(user=user)
    # A GROUP BY query ignores Meta.ordering: order explicitly so pages are stable.
    return (
        collections.select_related("owner")
        .annotate(sample_count=_visible_item_count(user))
        .order_by("name", "id")
    )


def _visible_item_count(user: User) -> Count:
    """Count a collection's items whose sample ``user`` may open (see ``samples_visible``)."""
    visible = Q(items__sample__visibility=Visibility.PUBLIC)
    if user.is_authenticated:
        visible |= Q(items__sample__owner=user)
    return Count("items", filter=visible)


def batch_jobs_owned(*, user: User) -> QuerySet[BatchJob]:
    return BatchJob.objects.filter(owner=user)


def stored_file_names() -> set[str]:
    """Every storage name a sample row points at: originals and previews."""
    names: set[str] = set()
    for original, preview in Sample.objects.values_list("file", "preview").iterator():
        names.update(name for name in (original, preview) if name)
    return names
