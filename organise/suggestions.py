"""Ranking tag suggestions: pure functions, shared by the product and its benchmark.

A sample's likely tags come from the owner's own tagged samples, three ways:
its nearest neighbours by timbre vote their tags (closer votes weigh more),
samples of its category lend their common tags, and words of its name that
are already tags in the library count on their own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

NEIGHBOURS = 12
NEIGHBOUR_RADIUS = 0.5  # cosine distance beyond which a sample is no evidence
CATEGORY_WEIGHT = 0.6
NAME_WEIGHT = 1.5
MIN_SCORE = 0.5
WORD = re.compile(r"[a-z0-9]+")


@dataclass
class Suggestion:
    tag: str
    score: float
    reasons: list[str] = field(default_factory=list)


def name_words(name: str) -> set[str]:
    """Lower-case words of a name, file-name style too ("BD_Dusty808" -> bd, dusty808)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return set(WORD.findall(spaced.lower()))


def rank(
    *,
    neighbours: Iterable[tuple[float, Iterable[str]]],
    category_tags: Counter | None = None,
    category_size: int = 0,
    name: str = "",
    vocabulary: Iterable[str] = (),
    exclude: Iterable[str] = (),
    limit: int = 3,
) -> list[Suggestion]:
    """The ``limit`` likeliest tags, best first.

    ``neighbours`` are ``(cosine distance, tags)`` of the nearest tagged
    samples; ``category_tags`` counts tags over the ``category_size`` tagged
    samples of the same category; ``vocabulary`` is every tag in the library;
    ``exclude`` the tags already on the sample and the ones rejected for it.
    """
    scores: dict[str, Suggestion] = {}

    def add(tag: str, score: float, reason: str) -> None:
        entry = scores.setdefault(tag, Suggestion(tag, 0.0))
        entry.score += score
        if reason not in entry.reasons:
            entry.reasons.append(reason)

    for distance, tags in neighbours:
        weight = max(0.0, 1.0 - distance / NEIGHBOUR_RADIUS)
        for tag in tags:
            if weight:
                add(tag, weight, "sounds like samples tagged so")
    if category_tags and category_size:
        for tag, count in category_tags.items():
            add(tag, CATEGORY_WEIGHT * count / category_size, "common in its category")
    known = set(vocabulary)
    for word in name_words(name) & known:
        add(word, NAME_WEIGHT, "in its name")
    skip = set(exclude)
    found = [s for s in scores.values() if s.tag not in skip and s.score >= MIN_SCORE]
    found.sort(key=lambda s: (-s.score, s.tag))
    for s in found:
        s.score = round(s.score, 3)
    return found[:limit]
