"""Cleaning the text fields of samples and collections."""

from __future__ import annotations

from collections.abc import Iterable

from samplemind.text import plain_text, safe_html

MAX_TAGS = 30
MAX_TAG_LENGTH = 50


def clean_tags(tags: Iterable[str] | str | None) -> list[str]:
    """Lower-case, markup-free, de-duplicated tags, in the order given."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    cleaned: list[str] = []
    for tag in tags:
        tag = " ".join(plain_text(str(tag)).lower().split())[:MAX_TAG_LENGTH]
        if tag and tag not in cleaned:
            cleaned.append(tag)
    return cleaned[:MAX_TAGS]


def clean_name(name: str | None, *, fallback: str = "Untitled") -> str:
    return plain_text(name)[:200] or fallback


def clean_description(description: str | None) -> str:
    return safe_html(description)[:5000]
