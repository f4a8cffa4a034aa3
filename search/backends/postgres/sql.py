"""Hand-written SQL for the PostgreSQL backend's hot paths.

Every value a user can type travels as a query parameter; only constants and
column names chosen here are put into the text. Filters are written once, for
``search_sampledocument`` and ``library_sample`` alike (both name the filtered
columns the same).
"""

# SQL is assembled from constants and column names chosen here; every value is a
# parameter.
# ruff: noqa: S608

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import DEFERRED
from psycopg import sql

from search.filters import FilterContext, SearchFilters, registry

Params = dict[str, Any]


def filter_conditions(
    user, filters: SearchFilters, *, alias: str, id_column: str, on_samples: bool = False
) -> tuple[dict[str, str], Params]:
    """Each active filter's SQL condition (by filter name) on the table aliased ``alias``.

    ``id_column`` is the sample id column (``sample_id`` or ``id``), ``on_samples``
    whether the table is ``library_sample``. The conditions come from the filter
    registry (:mod:`search.filters`); their values are in the returned parameters.
    """
    ctx = FilterContext(user=user, alias=alias, id_column=id_column, on_samples=on_samples)
    conditions = registry.conditions(filters, ctx)
    return {name: rendered(condition) for name, condition in conditions.items()}, ctx.params


def filter_sql(
    user,
    filters: SearchFilters,
    *,
    alias: str,
    id_column: str,
    skip: Collection[str] = (),
    on_samples: bool = False,
) -> tuple[str, Params]:
    """``filters`` as ``AND ...`` conditions on the table aliased ``alias`` ('' when none).

    ``skip`` leaves out the named filters' conditions (a facet's own, or one a
    caller writes itself).
    """
    conditions, params = filter_conditions(
        user, filters, alias=alias, id_column=id_column, on_samples=on_samples
    )
    parts = [part for name, part in conditions.items() if name not in skip]
    return "".join(f" AND {part}" for part in parts), params


def rendered(statement: sql.Composable) -> str:
    """A ``psycopg.sql`` composition as text with ``%(name)s`` placeholders."""
    return statement.as_string(None)


# What owners search in their own samples (their private collections' names too), and
# the condition that finds their matches through the (words, owner) GIN index
# (migration 0006) rather than through everybody's matches of the words.
OWN_DOCUMENT = "(d.document || coalesce(d.private_document, ''::tsvector))"


def owned_by(param: str) -> str:
    """``d``'s rows owned by the user id in parameter ``param``, as the GIN index reads it."""
    return f"ARRAY[d.owner_id] @> ARRAY[%({param})s]::bigint[]"


def owner_of(user) -> int | None:
    """The user's id, or ``None`` (which matches no owner) for an anonymous caller."""
    return user.pk if user.is_authenticated else None


def fetch(sql: str, params: Params, *, settings: dict[str, str] | None = None) -> list[tuple]:
    """Rows of ``sql`` (named parameters); ``settings`` (GUC -> value) hold for it only.

    The settings go in the same round trip: ``set_config(..., true)`` and the
    query are sent as one multi-statement string, which PostgreSQL runs as one
    implicit transaction, so they end with it. Inside an explicit transaction
    they last until it ends, as ``SET LOCAL`` would.
    """
    with connection.cursor() as cursor:
        if not settings:
            cursor.execute(sql, params)
            return cursor.fetchall()
        names = {f"_guc{n}": name for n, name in enumerate(settings)}
        prefix = "SELECT " + ", ".join(
            f"set_config(%({key})s, %({key}_value)s, true)" for key in names
        )
        guc_params = {key: name for key, name in names.items()}
        guc_params |= {f"{key}_value": str(settings[name]) for key, name in names.items()}
        cursor.execute(f"{prefix}; {sql}", {**guc_params, **params})
        cursor.nextset()
        return cursor.fetchall()


# -- loading the page's samples in the ranking's statement ---------------------------

# Not needed to show a hit, and large: left deferred, as the ORM load did.
_DEFERRED = frozenset({"embedding", "descriptors", "waveform"})
# A hit shows its owner by name; the rest of the account (its password hash among
# them) stays in the database.
_OWNER_FIELDS = frozenset({"id", "email", "display_name"})


@functools.cache
def _owner_deferred() -> frozenset[str]:
    from accounts.models import User

    return frozenset(f.attname for f in User._meta.concrete_fields) - _OWNER_FIELDS


@functools.cache
def _hit_loaders() -> tuple[_Loader, _Loader]:
    """The loaders of a hit's sample and of its owner: what their columns are, in order."""
    from accounts.models import User
    from library.models import Sample

    return _loader(Sample, _DEFERRED), _loader(User, _owner_deferred())


@functools.cache
def sample_columns() -> str:
    """The SELECT list that loads a hit's sample (``s``) and owner (``u``)."""
    sample_loader, user_loader = _hit_loaders()
    return ", ".join([*sample_loader.columns("s"), *user_loader.columns("u")])


SAMPLE_JOIN = """
    LEFT JOIN library_sample s ON s.id = page.sample_id
         AND (s.visibility = %(public)s OR s.owner_id = %(me)s)
    LEFT JOIN accounts_user u ON u.id = s.owner_id
"""


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

    def columns(self, alias: str) -> list[str]:
        """The loaded columns, in the order :meth:`instance` takes their values."""
        return [f"{alias}.{name}" for name in self.column_names]

    def instance(self, values: Sequence[Any]):
        row = self.template.copy()
        for slot, value in zip(self.slots, values, strict=True):
            row[slot] = value
        if self.converters:
            db = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up
            for slot, field, converter in self.converters:
                row[slot] = converter(row[slot], field, db)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.names, row)


@functools.cache
def _loader(model, skip: frozenset[str] = frozenset()) -> _Loader:
    return _Loader(model, skip)
