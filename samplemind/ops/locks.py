"""PostgreSQL advisory locks: "only one at a time", held by a live database session.

A lock belongs to the connection that took it, so a process that dies (a killed
Celery worker) releases its locks with its connection; no lease can go stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import DatabaseError, connection


def _key(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Try to take the session lock ``name``; yields whether this session holds it."""
    key = _key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (locked,) = cursor.fetchone()
    try:
        yield locked
    finally:
        if locked:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                pass  # the connection is gone, and the lock with it


@contextmanager
def advisory_locks(names: Sequence[str]) -> Iterator[list[str]]:
    """``advisory_lock`` for many names in one round trip; yields the names this session holds.

    Each lock is tried on its own (one taken elsewhere does not stop the others),
    and the ones taken are released together at the end.
    """
    names = list(dict.fromkeys(names))  # a lock taken twice would need two unlocks
    keys = [_key(name) for name in names]
    if not keys:
        yield []
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, pg_try_advisory_lock(key) FROM unnest(%s::bigint[]) AS key", [keys]
        )
        taken = {key for key, locked in cursor.fetchall() if locked}
    try:
        yield [name for name, key in zip(names, keys, strict=True) if key in taken]
    finally:
        if taken:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(key) FROM unnest(%s::bigint[]) AS key",
                        [list(taken)],
                    )
            except DatabaseError:
                pass  # the connection is gone, and the locks with it
