"""Accepting and rejecting tag suggestions: one click each, a rejection is remembered."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from library.models import Sample
from library.services.samples import sample_update
from library.services.text import clean_tags
from organise.models import TagRejection
from samplemind.errors import NotAllowed


def _one_tag(tag: str) -> str:
    cleaned = clean_tags([tag])
    if len(cleaned) != 1:
        raise ValueError("not a tag")
    return cleaned[0]


@transaction.atomic
def tag_suggestion_accept(*, actor: User, sample: Sample, tag: str) -> Sample:
    """Add ``tag`` to the owner's ``sample`` (a tag already there changes nothing)."""
    tag = _one_tag(tag)
    if tag in sample.tags:
        return sample
    return sample_update(sample=sample, actor=actor, tags=[*sample.tags, tag])


@transaction.atomic
def tag_suggestion_reject(*, actor: User, sample: Sample, tag: str) -> None:
    """Never suggest ``tag`` for ``sample`` again."""
    if sample.owner_id != actor.pk:
        raise NotAllowed("Only the owner can answer this sample's suggestions.")
    TagRejection.objects.get_or_create(sample=sample, tag=_one_tag(tag))


@transaction.atomic
def tag_suggestions_answer_all(
    *, actor: User, samples: list[Sample], tag: str, accept: bool
) -> int:
    """Tag all of ``samples`` (the owner's), or reject the tag for all of them."""
    for sample in samples:
        if accept:
            tag_suggestion_accept(actor=actor, sample=sample, tag=tag)
        else:
            tag_suggestion_reject(actor=actor, sample=sample, tag=tag)
    return len(samples)
