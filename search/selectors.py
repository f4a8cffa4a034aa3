"""Searching the library: the functions views, pages and benchmarks call.

Each takes the user whose search it is and goes through the configured
backend (:func:`search.backends.get_search_backend`), which returns only that
user's samples and public ones. Answers are cached (:mod:`search.cache`);
``cache=False`` (or ``SEARCH_CACHE_SECONDS=0``, as the benchmarks set) asks the backend
every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

from django.conf import settings

from accounts.models import ApiKey, User
from accounts.rbac import has_permission
from library import analysis as analyser
from library.errors import InvalidAudio
from library.models import Sample
from library.selectors import samples_visible
from samplemind.errors import NotAllowed
from search import cache as search_cache
from search.backends import get_search_backend
from search.backends.base import Facets, ResultPage, SearchFilters, Suggestion
from search.errors import NotAnalysed
from search.understanding import Understood, understand

SIMILAR_PERMISSIONS = ("search:similar",)
HYBRID_PERMISSIONS = ("search:similar", "search:advanced")
# Enough of a clip to describe its timbre; bounds the work one request can cause.
BY_SOUND_MAX_SECONDS = 30.0


@search_cache.cached_selector("search")
def search_samples(
    *,
    user: User,
    text: str = "",
    filters: SearchFilters | None = None,
    fuzzy: str = "auto",
    ordering: str | None = None,
    similar_to: Sample | None = None,
    page: int = 1,
    page_size: int = 20,
) -> ResultPage:
    """One page of samples matching ``text`` and ``filters``.

    With ``similar_to`` (an analysed sample) and text, text relevance and
    sound similarity are fused into one ranking (hybrid search); with
    ``similar_to`` alone, the page holds the sample's nearest neighbours.
    """
    backend = get_search_backend()
    offset = (page - 1) * page_size
    if similar_to is not None:
        vector = embedding_of(similar_to)
        if not text.strip():
            # One neighbour more than the page needs says whether a next page exists;
            # the count is then "at least", as there is no end to "sounds like".
            wanted = offset + page_size
            nearest = backend.nearest(
                user=user, vector=vector, filters=filters, k=wanted + 1, exclude=[similar_to.pk]
            )
            if nearest.total > wanted:
                nearest.total_capped_at = nearest.total
            nearest.hits = nearest.hits[offset:wanted]
            return nearest
        return backend.hybrid(
            user=user,
            text=text,
            vector=vector,
            filters=filters,
            offset=offset,
            limit=page_size,
            exclude=[similar_to.pk],
        )
    return backend.search(
        user=user,
        text=text,
        filters=filters,
        fuzzy=fuzzy,
        ordering=ordering,
        offset=offset,
        limit=page_size,
    )


def search_understood(
    *,
    user: User,
    text: str = "",
    filters: SearchFilters | None = None,
    literal: Sequence[str] = (),
    **options,
) -> tuple[ResultPage, Understood]:
    """:func:`search_samples` after reading the words for filters ("hh 120 bpm").

    Returns the page and what was understood (its ``readings`` become chips).
    When what the words were read as finds nothing, they are searched as
    words instead, and nothing is reported as understood. ``literal`` phrases
    stay words.
    """
    filters = filters or SearchFilters()
    understood = understand(text, filters, literal=literal)
    if understood.changed:
        page = search_samples(
            user=user, text=understood.text, filters=understood.filters, **options
        )
        if page.total or page.hits:
            return page, understood
    page = search_samples(user=user, text=text, filters=filters, **options)
    return page, Understood(text, filters)


@search_cache.cached_selector("facets")
def search_facets(
    *,
    user: User,
    text: str = "",
    filters: SearchFilters | None = None,
    fuzzy: bool = False,
    expanded: dict[str, list[str]] | None = None,
) -> Facets:
    """Match counts by category, key and tempo band.

    ``fuzzy`` and ``expanded`` as the results page had them, so that the counts
    are of what the page shows.
    """
    return get_search_backend().facets(
        user=user, text=text, filters=filters, fuzzy="on" if fuzzy else "off", expanded=expanded
    )


@search_cache.cached_selector("similar")
def similar_samples(
    *,
    user: User,
    sample: Sample,
    k: int = 10,
    filters: SearchFilters | None = None,
) -> ResultPage:
    """The ``k`` visible samples that sound most like ``sample`` (itself left out)."""
    return get_search_backend().nearest(
        user=user, vector=embedding_of(sample), filters=filters, k=k, exclude=[sample.pk]
    )


def samples_like_sound(
    *, user: User, path: Path, k: int = 10, filters: SearchFilters | None = None
) -> ResultPage:
    """The ``k`` visible samples that sound most like the audio file at ``path``.

    The clip is analysed here and forgotten: nothing is stored. Raises
    :class:`InvalidAudio` when it does not decode.
    """
    return get_search_backend().nearest(
        user=user, vector=clip_embedding(path), filters=filters, k=k
    )


@search_cache.cached_selector("suggest")
def search_suggestions(*, user: User, text: str, limit: int = 8) -> list[Suggestion]:
    return get_search_backend().autocomplete(user=user, text=text[:100], limit=limit)


def sound_ranking_check(*, user: User, api_key: ApiKey | None, hybrid: bool) -> None:
    """Refuse ranking by sound unless the plan (and the API key's scopes) allow it.

    Alone, sound similarity ("more like this") needs ``search:similar``; fused
    with text relevance (hybrid search) it needs ``search:advanced`` too.
    """
    needed = HYBRID_PERMISSIONS if hybrid else SIMILAR_PERMISSIONS
    missing = [name for name in needed if not has_permission(user, name, api_key=api_key)]
    if missing:
        what = "sound similarity and text together" if hybrid else "sound similarity"
        raise NotAllowed(
            f"Ranking by {what} needs a plan with {', '.join(missing)}.",
            details={"missing": missing},
        )


def visible_sample(*, user: User, sample_id: UUID) -> Sample | None:
    return samples_visible(user=user).filter(pk=sample_id).first()


def embedding_of(sample: Sample) -> Sequence[float]:
    if sample.embedding is None:
        raise NotAnalysed(
            f"“{sample.name}” has not been analysed yet, so there is nothing to compare "
            "it with; try again when its status is ready.",
            details={"sample_id": str(sample.pk), "status": sample.status},
        )
    return [float(value) for value in sample.embedding]


def clip_embedding(path: Path) -> list[float]:
    """The timbre embedding of an audio file, from its first ``BY_SOUND_MAX_SECONDS``."""
    try:
        audio = analyser.decode_audio(path, max_seconds=BY_SOUND_MAX_SECONDS)
    except analyser.AudioDecodeError as exc:
        raise InvalidAudio(f"This clip cannot be read as audio: {exc}") from None
    if audio.duration is not None and audio.duration > settings.SAMPLEMIND_MAX_AUDIO_SECONDS:
        minutes = settings.SAMPLEMIND_MAX_AUDIO_SECONDS / 60
        raise InvalidAudio(f"This clip is longer than {minutes:.0f} minutes.")
    descriptors = analyser.analyze_audio(audio, embedding=True)
    embedding = descriptors.get("embedding")
    if not embedding:
        raise InvalidAudio("This clip has no sound to compare (it may be silent).")
    return [float(value) for value in embedding]
