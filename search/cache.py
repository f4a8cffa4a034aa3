"""Search answers cached in Redis under versioned keys.

A cached answer's key holds the kind of question, who asks (privacy: the same
words find different samples for different people), a hash of every
argument, and two *generations*: the asker's own and the public one. A
generation is a random token in the cache; changing it orphans every answer
stored under the old one, which then expires (``SEARCH_CACHE_SECONDS``).

The services that write call ``generations_bump`` (there are no model
signals, so ``update()``, ``bulk_create`` and a plain ``save()`` are alike):

- A sample that changes, appears or goes bumps its owner's generation, and
  the public one when it is or was public (others may have seen it).
- A collection or collection entry that changes bumps the public generation,
  which every key holds: collection names rank samples, and any sample may
  sit in anyone's collection.

Bumps happen at once (a later search in the same transaction sees the change)
and again after the commit, since a search running meanwhile may have stored
what the database held before it. A write that forgets is caught by the
expiry, kept short.
With Redis down nothing is cached and every search reaches the backend.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import inspect
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, is_dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from search.backends.base import ResultPage

logger = logging.getLogger(__name__)

T = TypeVar("T")
PUBLIC = "public"
# The answers themselves expire; generation tokens must outlive them.
GENERATION_SECONDS = 24 * 3600


def _timeout() -> int:
    return int(getattr(settings, "SEARCH_CACHE_SECONDS", 300))


def _namespace() -> str:
    # The database's name: a benchmark's or a test run's throw-away database has
    # user ids of its own, which must never meet the real ones' answers.
    return f"search:v1:{connection.settings_dict['NAME']}"


def _generation_key(scope: str) -> str:
    return f"{_namespace()}:gen:{scope}"


def _user_scope(user_id: Any) -> str:
    return f"user:{user_id}"


def _generations(scopes: list[str]) -> list[str] | None:
    """The current token of each scope, made when missing; None when Redis does not answer."""
    keys = [_generation_key(scope) for scope in scopes]
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    for key in missing:
        added = cache.add(key, secrets.token_hex(8), timeout=GENERATION_SECONDS)
        if not added and not found:
            # Most likely Redis is down (IGNORE_EXCEPTIONS turns errors into misses):
            # give up at once rather than wait on it again.
            return None
    if missing:
        found = cache.get_many(keys)
    if len(found) < len(keys):
        return None
    return [found[key] for key in keys]


def _fingerprint(value: Any) -> Any:
    """Arguments as JSON-able data, so equal questions hash alike."""
    if is_dataclass(value) and not isinstance(value, type):
        return _fingerprint(asdict(value))
    if isinstance(value, dict):
        return {str(key): _fingerprint(item) for key, item in sorted(value.items())}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_fingerprint(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "pk") and hasattr(value, "_meta"):  # a model instance
        return f"{value._meta.label}:{value.pk}"
    return str(value)


def cached(kind: str, *, user: Any, arguments: dict[str, Any], compute: Callable[[], T]) -> T:
    """``compute()``'s answer for this user and these arguments, from the cache when stored.

    Errors ``compute`` raises are not cached. Pages of hits are stored without
    their samples' owners (account rows stay out of the cache); one query puts
    them back.
    """
    timeout = _timeout()
    if timeout <= 0:
        return compute()
    user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    generations = _generations([PUBLIC, _user_scope(user_id)])
    if generations is None:
        return compute()
    digest = hashlib.sha256(
        json.dumps(_fingerprint(arguments), sort_keys=True, default=str).encode()
    ).hexdigest()[:32]
    key = f"{_namespace()}:{kind}:{user_id}:{':'.join(generations)}:{digest}"
    stored = cache.get(key)
    if stored is not None:
        answer = _unpack(stored)
        if answer is not None:
            return answer
    answer = compute()
    cache.set(key, _pack(answer), timeout=timeout)
    return answer


def cached_selector(kind: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Cache a keyword-only selector taking ``user``: its answers go through :func:`cached`.

    The decorated function takes ``cache=False`` to ask the backend every
    time. Defaults are bound before hashing, so leaving an argument out and
    passing its default share one answer.
    """

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def selector(*, user: Any, cache: bool = True, **arguments: Any) -> T:
            if not cache:
                return function(user=user, **arguments)
            bound = signature.bind(user=user, **arguments)
            bound.apply_defaults()
            asked = {name: value for name, value in bound.arguments.items() if name != "user"}
            return cached(
                kind, user=user, arguments=asked, compute=lambda: function(user=user, **asked)
            )

        return selector

    return decorate


def _pack(answer: Any) -> Any:
    if not isinstance(answer, ResultPage):
        return answer
    page = copy.copy(answer)
    page.hits = []
    for hit in answer.hits:
        sample = copy.copy(hit.sample)  # a model's copy has its own relation cache
        sample._state.fields_cache.pop("owner", None)
        page.hits.append(copy.copy(hit))
        page.hits[-1].sample = sample
    return page


def _unpack(stored: Any) -> Any:
    if not isinstance(stored, ResultPage) or not stored.hits:
        return stored
    from accounts.models import User

    owner_ids = {hit.sample.owner_id for hit in stored.hits}
    owners = User.objects.in_bulk(owner_ids)
    if len(owners) < len(owner_ids):
        return None  # an owner went since: compute afresh
    for hit in stored.hits:
        hit.sample.owner = owners[hit.sample.owner_id]
    return stored


# --------------------------------------------------------------------------- invalidation


def generations_bump(*, owner_ids: Iterable[Any] = (), public: bool = False) -> None:
    """Retire cached answers of these owners (and everyone's, with ``public``)."""
    scopes = {_user_scope(owner_id) for owner_id in owner_ids if owner_id is not None}
    if public:
        scopes.add(PUBLIC)
    if not scopes or _timeout() <= 0:
        return
    _bump(scopes)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(scopes), robust=True)


def _bump(scopes: set[str]) -> None:
    cache.set_many(
        {_generation_key(scope): secrets.token_hex(8) for scope in scopes},
        timeout=GENERATION_SECONDS,
    )
