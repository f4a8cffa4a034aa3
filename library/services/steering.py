"""A library's corrections as examples: new sounds lean to the producer's labels.

When a sample is analysed, the owner's samples whose category the producer
corrected and which sound nearly the same (cosine distance of the timbre
embeddings under ``MAX_DISTANCE``) vote for their corrected label, and the
vote is mixed with the analyser's probabilities. ``category_steer`` is the
pure part; the analysis service finds the neighbours
(``library.selectors.corrected_neighbours``) and stores the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from library.analysis import CATEGORIES
from library.analysis.category import LOOP_CATEGORIES

MAX_DISTANCE = 0.15
NEIGHBOURS = 10
# The vote never takes more than this share: a model that has never seen such
# a sound keeps a say, and one wrong correction cannot rule a whole family.
MAX_WEIGHT = 0.8
# Neighbour mass (sum of closeness, 1 for an identical sound) at which the
# vote weighs half of MAX_WEIGHT: one identical corrected sound already
# outweighs a confident model (0.53), one at half the distance does not (0.32).
HALF_MASS = 0.5


def model_probabilities(analysis: dict) -> dict[str, float]:
    """The analyser's ``category_probabilities`` normalised to sum to 1 ({} when absent)."""
    given = analysis.get("category_probabilities")
    if not isinstance(given, dict):
        return {}
    probabilities = {c: max(0.0, float(given.get(c) or 0.0)) for c in CATEGORIES}
    total = sum(probabilities.values())
    return {c: p / total for c, p in probabilities.items()} if total > 0 else {}


def _top(probabilities: dict[str, float], n: int = 3) -> list[list]:
    best = sorted(probabilities.items(), key=lambda item: (-item[1], CATEGORIES.index(item[0])))
    return [[category, round(p, 3)] for category, p in best[:n]]


def category_steer(analysis: dict, neighbours: Sequence[tuple[str, float]]) -> dict:
    """``analysis`` with its category reconsidered in the light of corrected neighbours.

    ``neighbours`` are ``(corrected category, cosine distance)`` pairs of the
    owner's corrected samples; those past ``MAX_DISTANCE``, outside the
    vocabulary, or on the other side of loop / one-shot from the reading are
    ignored (the tempo and loop flag were measured for that side). Each votes with its closeness
    (``1 - distance / MAX_DISTANCE``); the vote's weight grows with the total
    closeness up to ``MAX_WEIGHT``, and ``p = (1 - w) * p_model + w * vote``.
    Returns a new dict with ``category``, ``category_confidence``,
    ``category_top`` and ``category_probabilities`` recomputed, the
    analyser's own reading kept in ``category_model`` and the vote in
    ``category_steering``; ``analysis`` itself when nothing votes.
    """
    votes: dict[str, float] = {}
    counted = 0
    is_loop = bool(analysis.get("is_loop"))
    for label, distance in neighbours:
        same_side = (label in LOOP_CATEGORIES) == is_loop
        if label in CATEGORIES and same_side and distance is not None and distance < MAX_DISTANCE:
            votes[label] = votes.get(label, 0.0) + 1.0 - max(0.0, distance) / MAX_DISTANCE
            counted += 1
    mass = sum(votes.values())
    model = model_probabilities(analysis)
    if mass <= 0 or not model:
        return analysis
    weight = MAX_WEIGHT * mass / (mass + HALF_MASS)
    mixed = {c: (1 - weight) * model[c] + weight * votes.get(c, 0.0) / mass for c in CATEGORIES}
    top = _top(mixed)
    steered = dict(analysis)
    steered["category_model"] = {
        "category": analysis.get("category"),
        "confidence": analysis.get("category_confidence"),
        "top": analysis.get("category_top") or _top(model),
    }
    steered["category"], steered["category_confidence"] = top[0]
    steered["category_top"] = top
    steered["category_probabilities"] = {c: round(p, 4) for c, p in mixed.items()}
    steered["category_steering"] = {
        "neighbours": counted,
        "weight": round(weight, 3),
        "votes": {label: round(v / mass, 3) for label, v in votes.items()},
    }
    return steered
