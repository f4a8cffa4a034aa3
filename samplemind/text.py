"""Cleaning text people type: every user-supplied string passes through here.

Two kinds of stored text, and one rule for showing each:

- ``plain_text`` is for names, tags and titles: tags are dropped, the rest is
  kept as typed ("a < b", "Bass & Sub") and stored as text, never as HTML.
  Templates escape it on output (Django's autoescape); the API returns it as is.
- ``safe_html`` is for descriptions: stored as HTML already cleaned by bleach
  (a small allowlist of tags, safe links, ``&`` as ``&amp;``). Pages render it
  with ``|safe`` and escape it nowhere else; the API returns that same HTML.
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
    """Strip every tag (script and style content too) and control characters; keep the rest.

    The result is text, not HTML: a lone ``<`` or ``&`` stays as typed, and
    whatever shows it must escape it (templates do).
    """
    if not value:
        return ""
    cleaned = "".join(ch for ch in str(value) if ch.isprintable() or ch in "\n\t")
    if "<" not in cleaned and "&" not in cleaned:
        # No tag, no entity: nothing for bleach to drop or unescape (most names; an import
        # of a folder cleans one or two for every file).
        return cleaned.strip()
    cleaned = _CODE_BLOCKS.sub("", cleaned)
    # bleach drops the tags and escapes what is left; unescaping gives the text back.
    return html.unescape(bleach.clean(cleaned, tags=set(), attributes={}, strip=True)).strip()


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


def editable_html(stored: str | None) -> str:
    """A stored description as its owner edits it: the allowlisted tags stay, ``&amp;`` is ``&``.

    Saving it again through :func:`safe_html` gives back the same stored HTML,
    so an edit box never shows entities the person did not type.
    """
    return html.unescape(stored or "")
