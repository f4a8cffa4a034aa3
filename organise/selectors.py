"""Reads for organising: only ever inside one person's own library."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from accounts.models import User
from library.models import Sample
from library.selectors import exact_cosine_distance
from organise import matching
from organise.models import SampleFingerprint

# For each wanted sketch (numbered from 1), the owner's CANDIDATES nearest fingerprints
# within SKETCH_RADIUS, with the sample's name and age for the message and the link.
_CANDIDATES_SQL = """
SELECT s.id, s.name, s.created_at, near.frames, near.sketch_distance, wanted.n AS wanted
FROM unnest(%(sketches)s::vector[]) WITH ORDINALITY AS wanted (sketch, n)
CROSS JOIN LATERAL (
    SELECT f.sample_id, f.frames, f.sketch <=> wanted.sketch AS sketch_distance
    FROM organise_samplefingerprint f
    WHERE f.owner_id = %(owner)s AND f.sketch <=> wanted.sketch <= %(radius)s
    ORDER BY sketch_distance
    LIMIT %(limit)s
) AS near
JOIN library_sample s ON s.id = near.sample_id
ORDER BY wanted.n, near.sketch_distance
"""


def duplicate_candidates(*, owner: User, sketches: Sequence[Sequence[float]]) -> list[list[Sample]]:
    """For each sketch, the owner's samples whose fingerprints are nearest it: the ones
    worth comparing exactly, nearest first; one query however many sketches (an import
    asks once a chunk).

    An exact scan of one library (the owner index, no vector index), so no
    candidate is lost to an approximate search, and nobody else's sample is
    ever a candidate. Each sample carries ``frames`` and ``sketch_distance``
    and only the name and age beside its id, not its analysis or embedding.
    """
    found: list[list[Sample]] = [[] for _ in sketches]
    if not sketches:
        return found
    field = SampleFingerprint._meta.get_field("sketch")
    rows = Sample.objects.raw(
        _CANDIDATES_SQL,
        {
            "sketches": [field.get_prep_value(list(sketch)) for sketch in sketches],
            "owner": owner.pk,
            "radius": matching.SKETCH_RADIUS,
            "limit": matching.CANDIDATES,
        },
    )
    for sample in rows:
        found[sample.wanted - 1].append(sample)
    return found


def duplicate_groups(*, owner: User) -> list[list[Sample]]:
    """The owner's near-identical sounds, grouped, oldest first in each group; two queries.

    A group is every sample joined by near-duplicate links (a copy of a copy
    belongs with the first), biggest groups first.
    """
    links = list(
        SampleFingerprint.objects.filter(owner=owner, near_duplicate_of__isnull=False).values_list(
            "sample_id", "near_duplicate_of_id"
        )
    )
    parent: dict = {}

    def root(node):
        while parent.get(node, node) != node:
            parent[node] = parent.get(parent[node], parent[node])
            node = parent[node]
        return node

    for child, original in links:
        parent.setdefault(child, child)
        parent.setdefault(original, original)
        parent[root(child)] = root(original)
    samples = Sample.objects.filter(owner=owner, pk__in=list(parent)).order_by("created_at")
    groups: dict = {}
    for sample in samples:
        groups.setdefault(root(sample.pk), []).append(sample)
    return sorted(
        (g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0].created_at)
    )


def duplicate_group_of(*, owner: User, sample_id) -> list[Sample]:
    """The group ``sample_id`` belongs to in the owner's library (empty when none)."""
    for group in duplicate_groups(owner=owner):
        if any(s.pk == sample_id for s in group):
            return group
    return []


def samples_without_fingerprint(*, owner: User | None = None) -> QuerySet[Sample]:
    """Samples stored before fingerprints existed (or unreadable then), oldest first."""
    samples = Sample.objects.filter(fingerprint__isnull=True).select_related("owner")
    if owner is not None:
        samples = samples.filter(owner=owner)
    return samples.order_by("created_at", "pk")


def rating_annotations(*, user: User) -> dict:
    """``my_rating`` (0 when unrated, so it sorts last) and ``my_favourite`` for a sample query."""
    from django.db.models import Exists, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from organise.models import SampleRating

    if not user.is_authenticated:
        return {"my_rating": Value(0), "my_favourite": Value(False)}
    mine = SampleRating.objects.filter(user=user, sample=OuterRef("pk"))
    return {
        "my_rating": Coalesce(Subquery(mine.values("rating")[:1]), Value(0)),
        "my_favourite": Exists(mine.filter(favourite=True)),
    }


def rating_of(*, user: User, sample: Sample) -> tuple[bool, int | None]:
    """(favourite, stars) of ``sample`` for ``user``; uses the list's annotations when present."""
    if hasattr(sample, "my_rating"):
        return bool(sample.my_favourite), sample.my_rating or None
    from organise.models import SampleRating

    row = (
        SampleRating.objects.filter(user=user, sample=sample).first()
        if user.is_authenticated
        else None
    )
    return (row.favourite, row.rating) if row else (False, None)


def tag_vocabulary(*, owner: User) -> list[str]:
    """Every tag in the owner's library."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT unnest(tags) FROM library_sample WHERE owner_id = %s", [owner.pk]
        )
        return [row[0] for row in cursor.fetchall()]


def tag_suggestions(*, owner: User, sample: Sample, limit: int = 3) -> list:
    """Tags ``sample`` probably deserves, learned from the owner's own tagged samples only.

    Four queries: the timbre neighbours, the category's tags (at most 2,000
    samples), the library's vocabulary and the tags rejected for this sample.
    """
    from collections import Counter

    from library.models import SampleStatus
    from organise import suggestions
    from organise.models import TagRejection

    if sample.owner_id != owner.pk:
        return []
    tagged = Sample.objects.filter(owner=owner).exclude(pk=sample.pk).exclude(tags=[])
    neighbours: list = []
    if sample.embedding is not None:
        neighbours = list(
            tagged.filter(status=SampleStatus.READY, embedding__isnull=False)
            .annotate(distance=exact_cosine_distance(sample.embedding))
            .filter(distance__lte=suggestions.NEIGHBOUR_RADIUS)
            .order_by("distance")
            .values_list("distance", "tags")[: suggestions.NEIGHBOURS]
        )
    category_tags: Counter = Counter()
    size = 0
    if sample.category:
        for tags in tagged.filter(category=sample.category).values_list("tags", flat=True)[:2000]:
            category_tags.update(set(tags))
            size += 1
    rejected = TagRejection.objects.filter(sample=sample).values_list("tag", flat=True)
    return suggestions.rank(
        neighbours=neighbours,
        category_tags=category_tags,
        category_size=size,
        name=sample.name,
        vocabulary=tag_vocabulary(owner=owner),
        exclude=[*sample.tags, *rejected],
        limit=limit,
    )


def bulk_tag_suggestions(*, owner: User, max_tags: int = 10, per_tag: int = 50) -> list[dict]:
    """ "12 samples look dusty": for the owner's commonest tags, untagged samples that sound alike.

    A tag with at least three samples has a centre (the mean of their
    embeddings); samples without it whose embedding is as close to that centre
    as its own samples are to the centre of the others (leaving each out) are offered,
    unless the tag was rejected for them. One query for the tagged embeddings,
    one per tag for the candidates; only the owner's samples are read.
    """
    import numpy as np

    from library.models import SampleStatus
    from organise.models import TagRejection

    analysed = Sample.objects.filter(
        owner=owner, status=SampleStatus.READY, embedding__isnull=False
    )
    members: dict[str, list] = {}
    for tags, vector in analysed.exclude(tags=[]).values_list("tags", "embedding"):
        for tag in tags:
            members.setdefault(tag, []).append(np.asarray(vector, dtype=float))
    common = sorted((t for t in members if len(members[t]) >= 3), key=lambda t: -len(members[t]))
    found = []
    for tag in common[:max_tags]:
        vectors = np.stack(members[tag])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        centre = vectors.mean(axis=0)
        centre /= np.linalg.norm(centre) + 1e-12
        # How far each sample of the tag lies from the centre of the others: a new
        # sample as close as they are belongs with them.
        others = vectors.sum(axis=0) - vectors
        others /= np.linalg.norm(others, axis=1, keepdims=True) + 1e-12
        radius = 1.1 * float(np.max(1.0 - (vectors * others).sum(axis=1)))
        rejected = TagRejection.objects.filter(sample__owner=owner, tag=tag).values("sample_id")
        candidates = list(
            analysed.exclude(tags__contains=[tag])
            .exclude(pk__in=rejected)
            .annotate(distance=exact_cosine_distance(centre.tolist()))
            .filter(distance__lte=radius)
            .order_by("distance")
            .only("pk", "name")[:per_tag]
        )
        if candidates:
            found.append({"tag": tag, "samples": candidates})
    return found
