"""What every statement of the PostgreSQL backend shares: running it, privacy, filters, loading.

Statements are composed with ``psycopg.sql``: SQL text and identifiers in
:class:`~psycopg.sql.SQL` / :class:`~psycopg.sql.Identifier`, every value a
``%(name)s`` parameter. :func:`finished` shows any of them as PostgreSQL
receives it, parameters filled in.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import DEFERRED
from psycopg import ClientCursor, sql

from library.models import Visibility
from search.filters import FilterContext, SearchFilters, registry

Params = dict[str, Any]
EMPTY = sql.SQL("")


_recorders: list[list[str]] = []


@contextlib.contextmanager
def recording() -> Iterator[list[str]]:
    """Collect the finished statement of every :func:`fetch` inside the block (for reading)."""
    seen: list[str] = []
    _recorders.append(seen)
    try:
        yield seen
    finally:
        _recorders.remove(seen)


def fetch(statement: sql.Composable, params: Params, *, settings: dict | None = None) -> list:
    """Rows of ``statement``; ``settings`` (GUC -> value) hold for it only.

    The settings go in the same round trip: ``set_config(..., true)`` and the
    query are sent as one multi-statement string, which PostgreSQL runs as one
    implicit transaction, so they end with it. Inside an explicit transaction
    they last until it ends, as ``SET LOCAL`` would.
    """
    for seen in _recorders:
        seen.append(finished(statement, params, settings=settings))
    statement, params = _with_settings(statement, params, settings)
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(None), params)
        if settings:
            cursor.nextset()
        return cursor.fetchall()


def fetch_none(statement: sql.Composable, params: Params) -> None:
    """Run ``statement`` for its effect (its rows, if any, are not read)."""
    for seen in _recorders:
        seen.append(finished(statement, params))
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(None), params)


def finished(statement: sql.Composable, params: Params, *, settings: dict | None = None) -> str:
    """The statement PostgreSQL receives, parameters filled in (for reading, never for running)."""
    statement, params = _with_settings(statement, params, settings)
    connection.ensure_connection()
    with ClientCursor(connection.connection) as cursor:
        return cursor.mogrify(statement.as_string(None), params)


def _with_settings(
    statement: sql.Composable, params: Params, settings: dict | None
) -> tuple[sql.Composable, Params]:
    if not settings:
        return statement, params
    calls, values = [], {}
    for n, (name, value) in enumerate(settings.items()):
        calls.append(
            sql.SQL("set_config({}, {}, true)").format(
                sql.Placeholder(f"_guc{n}"), sql.Placeholder(f"_guc{n}_value")
            )
        )
        values |= {f"_guc{n}": name, f"_guc{n}_value": str(value)}
    prefix = sql.SQL("SELECT {}").format(sql.SQL(", ").join(calls))
    return sql.SQL("{}; {}").format(prefix, statement), {**values, **params}


def also(conditions: Iterable[sql.Composable]) -> sql.Composable:
    """``AND c1 AND c2 ...`` to follow a ``WHERE`` (nothing when there are none)."""
    return sql.Composed([sql.SQL(" AND {}").format(condition) for condition in conditions])


def column(alias: str, name: str) -> sql.Identifier:
    return sql.Identifier(alias, name)


# -- privacy ----------------------------------------------------------------------------


def visibility_params(user) -> Params:
    return {"public": Visibility.PUBLIC.value, "me": owner_of(user)}


def owner_of(user) -> int | None:
    """The user's id, or ``None`` (which matches no owner) for an anonymous caller."""
    return user.pk if user.is_authenticated else None


def visible(user, alias: str) -> sql.Composable:
    """``alias``'s rows ``user`` may see: their own and public ones."""
    if not user.is_authenticated:
        return sql.SQL("{} = %(public)s").format(column(alias, "visibility"))
    return sql.SQL("({} = %(public)s OR {} = %(me)s)").format(
        column(alias, "visibility"), column(alias, "owner_id")
    )


# What owners search in their own samples (their private collections' names too), and
# the condition that finds their matches through the (words, owner) GIN index
# (migration 0006) rather than through everybody's matches of the words.
OWN_DOCUMENT = sql.SQL("(d.document || coalesce(d.private_document, ''::tsvector))")
OWNED_BY_ME = sql.SQL("ARRAY[d.owner_id] @> ARRAY[%(me)s]::bigint[]")


# -- filters ----------------------------------------------------------------------------


def filter_conditions(
    user, filters: SearchFilters, *, alias: str, id_column: str, on_samples: bool = False
) -> tuple[dict[str, sql.Composable], Params]:
    """Each active filter's condition (by filter name) on the table aliased ``alias``.

    ``id_column`` is the sample id column (``sample_id`` or ``id``), ``on_samples``
    whether the table is ``library_sample``. The conditions come from the filter
    registry (:mod:`search.filters`); their values are in the returned parameters.
    """
    ctx = FilterContext(user=user, alias=alias, id_column=id_column, on_samples=on_samples)
    return registry.conditions(filters, ctx), ctx.params


def filter_where(
    user,
    filters: SearchFilters,
    *,
    alias: str,
    id_column: str,
    skip: Iterable[str] = (),
    on_samples: bool = False,
) -> tuple[list[sql.Composable], Params]:
    """``filters`` as conditions on ``alias``, leaving out the filters named in ``skip``."""
    conditions, params = filter_conditions(
        user, filters, alias=alias, id_column=id_column, on_samples=on_samples
    )
    skipped = set(skip)
    return [part for name, part in conditions.items() if name not in skipped], params


# -- loading the page's samples in the ranking's statement --------------------------------

# Not needed to show a hit, and large: left deferred, as the ORM load did.
_DEFERRED = frozenset({"embedding", "descriptors", "waveform"})
# A hit shows its owner by name; the rest of the account (its password hash among
# them) stays in the database.
_OWNER_FIELDS = frozenset({"id", "email", "display_name"})

SAMPLE_JOIN = sql.SQL(
    " LEFT JOIN library_sample s ON s.id = page.sample_id"
    " AND (s.visibility = %(public)s OR s.owner_id = %(me)s)"
    " LEFT JOIN accounts_user u ON u.id = s.owner_id"
)


@functools.cache
def _owner_deferred() -> frozenset[str]:
    from accounts.models import User

    return frozenset(f.attname for f in User._meta.concrete_fields) - _OWNER_FIELDS


@functools.cache
def _hit_loaders() -> tuple[_Loader, _Loader]:
    """The loaders of a hit's sample and of its owner: what their columns are, in order."""
    from accounts.models import User
    from library.models import Sample

    return _Loader(Sample, _DEFERRED), _Loader(User, _owner_deferred())


def rendered(statement: sql.Composable) -> sql.SQL:
    """A composition rendered once, for pieces used in every statement (quoting is not free)."""
    return sql.SQL(statement.as_string(None))


@functools.cache
def sample_columns() -> sql.Composable:
    """The SELECT list that loads a hit's sample (``s``) and owner (``u``)."""
    sample_loader, user_loader = _hit_loaders()
    return rendered(sql.SQL(", ").join([*sample_loader.columns("s"), *user_loader.columns("u")]))


def samples_from(values: Sequence[Any]):
    """The sample (its owner attached) from the :func:`sample_columns` part of a row.

    ``None`` when the sample is gone or no longer visible since it was ranked.
    """
    if values[0] is None:
        return None
    sample_loader, user_loader = _hit_loaders()
    sample = sample_loader.instance(values[: sample_loader.width])
    owner = user_loader.instance(values[sample_loader.width :])
    type(sample).owner.field.set_cached_value(sample, owner)
    return sample


class _Loader:
    """Builds ``model`` instances from rows of its loaded columns, as the ORM would.

    Rows are put at full width with ``DEFERRED`` where a field is not loaded,
    so that ``Model.from_db`` need not place them by name for every row.
    """

    def __init__(self, model, skip: frozenset[str]) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.slots = [n for n, f in enumerate(fields) if f.attname not in skip]
        self.names = [f.attname for f in fields]
        self.template = [DEFERRED] * len(fields)
        self.width = len(self.slots)
        self.column_names = [fields[slot].column for slot in self.slots]
        self.converters = [
            (slot, field, converter)
            for slot in self.slots
            for field in [fields[slot]]
            for converter in field.get_db_converters(connection)
        ]

    def columns(self, alias: str) -> list[sql.Identifier]:
        """The loaded columns, in the order :meth:`instance` takes their values."""
        return [column(alias, name) for name in self.column_names]

    def instance(self, values: Sequence[Any]):
        row = self.template.copy()
        for slot, value in zip(self.slots, values, strict=True):
            row[slot] = value
        if self.converters:
            db = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up
            for slot, field, converter in self.converters:
                row[slot] = converter(row[slot], field, db)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.names, row)


# -- ordering ---------------------------------------------------------------------------

# The directions an ordering term may take.
_DIRECTIONS = {
    "": sql.SQL(""),
    "DESC": sql.SQL(" DESC"),
    "DESC NULLS LAST": sql.SQL(" DESC NULLS LAST"),
}


@dataclass(frozen=True)
class Order:
    """An ``ORDER BY`` list: ``(column, direction)`` terms, direction one of :data:`_DIRECTIONS`."""

    terms: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, ordering: str | None, default: Order, sortable: Iterable[str]) -> Order:
        """``ordering`` (``"-bpm"``) first, then ``default``; ``default`` alone when unknown."""
        name = (ordering or "").lstrip("-")
        if name not in set(sortable):
            return default
        first = (name, "DESC NULLS LAST" if ordering.startswith("-") else "")
        return cls((first, *default.terms))

    @property
    def first_column(self) -> str:
        return self.terms[0][0]

    def sql(self, alias: str | None = None) -> sql.Composable:
        return _order_sql(self, alias)


@functools.cache  # few orders exist (sortable fields x directions x aliases)
def _order_sql(order: Order, alias: str | None) -> sql.Composable:
    return rendered(
        sql.SQL(", ").join(
            sql.SQL("{}{}").format(
                sql.Identifier(alias, name) if alias else sql.Identifier(name),
                _DIRECTIONS[direction],
            )
            for name, direction in order.terms
        )
    )
