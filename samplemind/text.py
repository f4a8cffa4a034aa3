"""Cleaning text people type: every user-supplied string passes through here.

``plain_text`` is for names, tags and titles (no markup at all);
``safe_html`` is for descriptions, which may keep a small allowlist of tags.
"""

from __future__ import annotations

import html
import re

import bleach

ALLOWED_TAGS = frozenset({"a", "b", "strong", "i", "em", "p", "br", "ul", "ol", "li", "code"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_CODE_BLOCKS = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)


def plain_text(value: str | None) -> str:
    """Strip every tag (script and style content too), angle brackets and control characters.

    The result is stored as text and escaped wherever it is shown.
    """
    if not value:
        return ""
    cleaned = "".join(ch for ch in str(value) if ch.isprintable() or ch in "\n\t")
    cleaned = _CODE_BLOCKS.sub("", cleaned)
    cleaned = html.unescape(bleach.clean(cleaned, tags=set(), attributes={}, strip=True))
    return cleaned.replace("<", "").replace(">", "").strip()


def human_bytes(size: float) -> str:
    """A size as people read it: 512 B, 1.5 KB, 100.0 MB."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def safe_html(value: str | None) -> str:
    """Keep the allowlisted tags, drop the rest, and make links safe."""
    if not value:
        return ""
    cleaned = bleach.clean(
        _CODE_BLOCKS.sub("", str(value)),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
    )
    return bleach.linkify(cleaned, callbacks=[bleach.callbacks.nofollow])
