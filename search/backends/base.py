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

from search.filters.base import FacetCount
from search.filters.values import SearchFilters

if TYPE_CHECKING:
    from accounts.models import User
    from library.models import Sample


# Fields a search can be ordered by (``-`` first for descending), besides relevance.
SORTABLE = frozenset({"created_at", "bpm", "duration", "loudness_lufs", "key"})


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
    def respelled(self) -> dict[str, list[str]]:
        """The words of :attr:`expanded` another spelling stood in for (not only themselves)."""
        changed = {
            word: [other for other in others if other != word]
            for word, others in self.expanded.items()
        }
        return {word: others for word, others in changed.items() if others}

    @property
    def total_is_exact(self) -> bool:
        return self.total_capped_at is None or self.total < self.total_capped_at


@dataclass
class Facets:
    """How the matches spread, by faceted filter name (``category``, ``key``, ``bpm``...).

    Each facet ignores its own filter, so that its other choices stay visible.
    """

    groups: dict[str, list[FacetCount]] = field(default_factory=dict)

    def __getattr__(self, name: str) -> list[FacetCount]:
        if name.startswith("_") or name == "groups":
            raise AttributeError(name)
        return self.groups.get(name, [])


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
        """Counts of the matches of :meth:`search` by each faceted filter's values.

        With ``fuzzy="on"`` the near spellings of the words are counted, as a
        fuzzy search found them: those in ``expanded`` when given (the page's
        :attr:`ResultPage.expanded`, so that they are not looked up again),
        else those looked up afresh.
        """
        raise NotImplementedError("subclasses of BaseSearchBackend must provide facets()")

    def autocomplete(self, *, user: User, text: str, limit: int = 8) -> list[Suggestion]:
        """Completions of the last word of ``text``, from the names and tags the user can see."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide autocomplete()")

    # -- the index the backend owns

    def setup(self, *, force: bool = False) -> bool:
        """Make the database objects the index needs follow the code (after ``migrate``).

        Idempotent; returns whether anything changed. The default has nothing to make.
        """
        return False

    def index(self, ids: Sequence[UUID]) -> None:
        """Write (or rewrite) the search entries of these samples from what they hold now."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide index()")

    def delete(self, ids: Sequence[UUID]) -> None:
        """Remove the search entries of these samples."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide delete()")

    def rebuild(self) -> int:
        """Rewrite every sample's entry and drop entries of samples gone; returns how many."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide rebuild()")

    def stale(self, limit: int = 1000) -> list[UUID]:
        """Samples whose entry is missing or no longer matches them (for the periodic sweep)."""
        raise NotImplementedError("subclasses of BaseSearchBackend must provide stale()")
