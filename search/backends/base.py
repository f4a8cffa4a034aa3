"""The search backend interface, and the values that cross it.

A backend answers five questions about the samples a user may see: which
match this text and these filters (:meth:`~BaseSearchBackend.search`), which
sound closest to this timbre vector (:meth:`~BaseSearchBackend.nearest`),
both at once (:meth:`~BaseSearchBackend.hybrid`), how the matches spread over
categories, keys and tempos (:meth:`~BaseSearchBackend.facets`), and how a
half-typed word might end (:meth:`~BaseSearchBackend.autocomplete`).

Every method takes the user whose search it is and must return only that
user's samples and public ones. Views and pages reach a backend through
:func:`search.backends.get_search_backend`, so ranking can change without
touching them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from accounts.models import User
    from library.models import Sample


# Fields a search can be ordered by (``-`` first for descending), besides relevance.
SORTABLE = frozenset({"created_at", "bpm", "duration", "loudness_lufs", "key"})
# Tempo bands for facets: below 60, 60-79, ..., 160-179, 180 and up.
BPM_BAND_EDGES: tuple[int, ...] = (60, 80, 100, 120, 140, 160, 180)


def bpm_band(index: int) -> tuple[int | None, int | None, str]:
    """Band ``index`` (0 = below the first edge) as ``(low, high, label)``, high exclusive."""
    edges = BPM_BAND_EDGES
    low = edges[index - 1] if index > 0 else None
    high = edges[index] if index < len(edges) else None
    if low is None:
        return None, high, f"under {high}"
    if high is None:
        return low, None, f"{low}+"
    return low, high, f"{low}\u2013{high - 1}"


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing conditions; ``None`` or empty means "any"."""

    bpm_min: float | None = None
    bpm_max: float | None = None
    key: str | None = None  # C .. B
    mode: str | None = None  # major / minor
    compatible_keys: bool = False  # key + mode's Camelot neighbours instead of the key alone
    duration_min: float | None = None
    duration_max: float | None = None
    loudness_min: float | None = None
    loudness_max: float | None = None
    categories: tuple[str, ...] = ()
    is_loop: bool | None = None
    tags: tuple[str, ...] = ()  # every one of them
    collection: int | None = None
    visibility: str | None = None  # public / private
    mine: bool = False  # the user's own samples only


@dataclass
class Hit:
    """One result: the sample, its place in the ranking and how the score was made.

    ``parts`` holds the score's ingredients by name (``text_rank``,
    ``text_position``, ``distance``, ``vector_position``, ``word_similarity``...).
    ``highlight`` holds HTML-safe snippets whose only markup is ``<mark>``.
    """

    sample: Sample
    score: float | None = None
    parts: dict[str, Any] = field(default_factory=dict)
    highlight: dict[str, str] = field(default_factory=dict)


@dataclass
class ResultPage:
    """A page of hits, the number of matches and how the text was matched.

    ``total`` is exact up to ``total_capped_at`` and stops counting there.
    ``fuzzy`` says whether words were matched approximately ("kik" -> "kick"),
    and ``expanded`` which words stood in for which.
    """

    hits: list[Hit]
    total: int
    total_capped_at: int | None = None
    fuzzy: bool = False
    expanded: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total_is_exact(self) -> bool:
        return self.total_capped_at is None or self.total < self.total_capped_at


@dataclass
class FacetCount:
    value: Any
    count: int
    label: str = ""


@dataclass
class Facets:
    """How the matches spread; each facet ignores its own filter (so choices stay visible)."""

    category: list[FacetCount]
    key: list[FacetCount]
    bpm: list[FacetCount]


@dataclass
class Suggestion:
    """A completion of the query's last word, with how many visible samples it finds."""

    text: str  # the whole query, completed
    word: str  # the completed word
    samples: int  # visible samples the completed query finds, counted up to a cap
    fuzzy: bool = False  # a near spelling rather than a prefix


class BaseSearchBackend:
    """Search over samples; subclasses implement every method.

    ``options`` come from the ``OPTIONS`` of the backend's entry in
    ``settings.SEARCH_BACKENDS``.
    """

    def __init__(self, alias: str = "default", **options: Any) -> None:
        self.alias = alias
        self.options = options

    def search(
        self,
        *,
        user: User,
        text: str = "",
        filters: SearchFilters | None = None,
        fuzzy: str = "auto",
        ordering: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> ResultPage:
        """Samples matching ``text`` (web-search syntax) and ``filters``, best first.

        ``fuzzy`` is ``"auto"`` (approximate words when the exact ones find
        nothing), ``"on"`` or ``"off"``. Without text, newest first unless
        ``ordering`` (a sample field, ``-`` for descending) says otherwise.
        """
        raise NotImplementedError("subclasses of BaseSearchBackend must provide search()")

    def nearest(
        self,
        *,
        user: User,
        vector: Sequence[float],
        filters: SearchFilters | None = None,
        k: int = 10,
        exclude: Sequence[UUID] = (),
    ) -> ResultPage:
        """The ``k`` samples whose embeddings are closest (cosine) to ``vector``.

        Filters narrow the candidates without shrinking the answer: ``k``
        results whenever that many samples match.
        """
        raise NotImplementedError("subclasses of BaseSearchBackend must provide nearest()")

    def hybrid(
        self,
        *,
        user: User,
        text: str,
        vector: Sequence[float],
        filters: SearchFilters | None = None,
        offset: int = 0,
        limit: int = 20,
        exclude: Sequence[UUID] = (),
    ) -> ResultPage:
        """Text matches and sound neighbours in one ranking, with each score part shown."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide hybrid()")

    def facets(
        self,
        *,
        user: User,
        text: str = "",
        filters: SearchFilters | None = None,
        fuzzy: str = "off",
        expanded: dict[str, list[str]] | None = None,
    ) -> Facets:
        """Counts of the matches of :meth:`search` by category, key and tempo band.

        With ``fuzzy="on"`` the near spellings of the words are counted, as a
        fuzzy search found them: those in ``expanded`` when given (the page's
        :attr:`ResultPage.expanded`, so that they are not looked up again),
        else those looked up afresh.
        """
        raise NotImplementedError("subclasses of BaseSearchBackend must provide facets()")

    def autocomplete(self, *, user: User, text: str, limit: int = 8) -> list[Suggestion]:
        """Completions of the last word of ``text``, from the names and tags the user can see."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide autocomplete()")
