"""Reads for the studio: project settings, renders, kits and slices."""

from __future__ import annotations

from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, QuerySet, Value, Window
from django.db.models.functions import RowNumber
from pgvector.django import CosineDistance

from accounts.models import User
from library import selectors as library_selectors
from library.models import Sample, SampleStatus, Visibility
from samplemind.errors import ProductError
from studio.models import Kit, KitPad, ProjectSettings, Render, Slice


def project_settings(*, user: User) -> ProjectSettings:
    """The user's project tempo and key; an unsaved blank one until they set it."""
    found = ProjectSettings.objects.filter(user=user).first()
    return found if found is not None else ProjectSettings(user=user)


def render_target(
    *,
    user: User,
    bpm: float | None = None,
    key: str | None = None,
    mode: str | None = None,
    format: str = "wav",  # noqa: A002 - the query parameter's name
    pitch_drums: bool | None = None,
) -> dict:
    """A render request's target; tempo, key and drum pitching default to the project's.

    Raises ``ProductError`` (400) when neither the request nor the project names
    a tempo or a key.
    """
    project = project_settings(user=user)
    if bpm is None and key is None:
        bpm, key, mode = project.bpm, project.key, project.mode
    if bpm is None and key is None:
        raise ProductError(
            "Give a tempo (bpm) or a key, or set your project's (studio/project).",
            details={"bpm": ["Give a tempo or a key."]},
        )
    if pitch_drums is None:
        pitch_drums = project.pitch_drums
    return {"bpm": bpm, "key": key, "mode": mode, "fmt": format, "pitch_drums": pitch_drums}


def target_label(*, bpm: float | None, key: str | None, mode: str | None) -> str:
    """``124 BPM, F minor``."""
    parts = []
    if bpm is not None:
        parts.append(f"{bpm:g} BPM")
    if key:
        parts.append(f"{key} {mode or 'major'}")
    return ", ".join(parts)


def render_filename(render: Render) -> str:
    """``Dusty Loop (124 BPM, F minor).wav``: what lands in the producer's DAW."""
    label = target_label(bpm=render.bpm, key=render.key, mode=render.mode)
    stem = "".join(c if c.isalnum() or c in " -_#" else "_" for c in render.sample.name).strip()
    return f"{stem or 'render'} ({label}).{render.format}"


# What "complete this kit" looks for, in the order a drum kit is usually built.
KIT_CATEGORIES = ("kick", "snare", "hihat", "clap", "percussion", "tom", "cymbal")


def kits_visible(*, user: User) -> QuerySet[Kit]:
    if not user.is_authenticated:
        return Kit.objects.filter(visibility=Visibility.PUBLIC)
    return Kit.objects.filter(Q(owner=user) | Q(visibility=Visibility.PUBLIC))


def kits_with_counts(*, user: User, scope: str = "visible") -> QuerySet[Kit]:
    """Kits with ``pad_count`` (pads whose sample ``user`` may open); scope owned/public/visible."""
    if scope == "owned":
        kits = Kit.objects.filter(owner=user)
    elif scope == "public":
        kits = Kit.objects.filter(visibility=Visibility.PUBLIC)
    else:
        kits = kits_visible(user=user)
    visible = Q(pads__sample__visibility=Visibility.PUBLIC)
    if user.is_authenticated:
        visible |= Q(pads__sample__owner=user)
    return (
        kits.select_related("owner")
        .annotate(pad_count=Count("pads", filter=visible))
        .order_by("name", "id")
    )


def kit_pads(*, kit: Kit, user: User) -> list[KitPad]:
    """The kit's pads in order, leaving out pads whose sample ``user`` may not open."""
    visible = library_selectors.samples_visible(user=user).values("pk")
    return list(
        KitPad.objects.filter(kit=kit, sample__in=visible)
        .select_related("sample")
        .defer("sample__embedding")
        .order_by("pad")
    )


def kit_suggestions(
    *,
    user: User,
    seed: Sample,
    categories: tuple[str, ...] = KIT_CATEGORIES,
    per_category: int = 3,
    exclude: list = (),
) -> dict[str, list[Sample]]:
    """Per category, the samples ``user`` may open whose timbre is nearest ``seed``'s.

    One query: every candidate ranked by cosine distance within its category
    (a window function), the first ``per_category`` of each kept. The distance
    is exact (``+ 0`` keeps the approximate HNSW index out, which would rank
    everyone's samples and could drop the ones this person may see).
    """
    if seed.embedding is None:
        return {category: [] for category in categories}
    distance = ExpressionWrapper(
        CosineDistance("embedding", list(seed.embedding)) + Value(0.0), output_field=FloatField()
    )
    ranked = (
        library_selectors.samples_visible(user=user)
        .filter(
            status=SampleStatus.READY,
            embedding__isnull=False,
            category__in=categories,
        )
        .exclude(is_loop=True)
        .exclude(pk=seed.pk)
        .exclude(pk__in=list(exclude))
        .annotate(distance=distance)
        .annotate(
            rank=Window(RowNumber(), partition_by=F("category"), order_by=F("distance").asc())
        )
        .filter(rank__lte=per_category)
        .select_related("owner")
        .defer("embedding")
        .order_by("category", "rank")
    )
    found: dict[str, list[Sample]] = {category: [] for category in categories}
    for sample in ranked:
        found[sample.category].append(sample)
    return found


def loop_slices(*, loop: Sample, user: User) -> list[Slice]:
    """The loop's slices in order, leaving out slice samples ``user`` may not open."""
    visible = library_selectors.samples_visible(user=user).values("pk")
    return list(
        Slice.objects.filter(loop=loop, sample__in=visible)
        .select_related("sample")
        .defer("sample__embedding")
        .order_by("index")
    )
