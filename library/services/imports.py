"""Importing many files for one account (``import_samples``): stored and queued in chunks.

Uploads store one file per transaction (each is its own request). An import
of a folder would spend more on that per-file work than the workers spend
analysing, so it goes in chunks: each file of a chunk is decoded to prove it
is audio, then the chunk is stored with one query for duplicates, one INSERT
(the search trigger indexes the whole statement at once), one commit and one
search-cache bump, and its analyses are queued in batches as it commits.
Workers start on the first chunk while the next is read. Quotas are not applied: this is
the operator's tool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.rbac import has_permission
from library import selectors
from library.models import BatchJob, Sample, Visibility
from library.services.queue import enqueue_analyses
from library.services.uploads import SampleFields, Spooled, sample_build, sample_create
from samplemind.errors import Duplicate, NotAllowed, ProductError
from search.cache import generations_bump

logger = logging.getLogger(__name__)

CHUNK_FILES = 50


@dataclass
class CopyChecks:
    """How an import finds near-duplicates; set by the organise app, which the library
    does not import (``OrganiseConfig.ready``), as it adds its sample annotations.

    ``prepare(owner=, paths=)`` reads a chunk's files at once (one query for all of
    them); ``check(path=, earlier=, prepared=)`` answers None (not fingerprinted) or an
    object whose ``original`` is the sample (stored, or among ``earlier``: pairs of a
    sample of this chunk and its check) the file copies, or None; ``record(pairs)``
    stores the checks of a chunk's new samples in its transaction.
    """

    prepare: Callable[..., Any]
    check: Callable[..., Any]
    record: Callable[[list[tuple[Sample, Any]]], None]


COPY_CHECKS: CopyChecks | None = None


@dataclass
class Imported:
    """What became of the files: new samples, duplicates (by existing id), refusals."""

    created: list[Sample] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, existing id)
    errors: list[dict] = field(default_factory=list)  # {"file", "error", "code"}
    # Files that sound like a sample of the owner's (file, that sample's id, its name):
    # skipped, or stored and linked to it when the import keeps near-duplicates.
    near_duplicates: list[tuple[str, str, str]] = field(default_factory=list)


def samples_import(
    *,
    owner: User,
    files: Iterable[tuple[Spooled, SampleFields]],
    batch: BatchJob | None = None,
    chunk_files: int | None = None,
    keep_duplicates: bool = False,
) -> Imported:
    """Store each file as a new sample of ``owner`` and queue its analysis, a chunk at a time.

    Files whose content the library (or an earlier file of the import) holds
    are reported as duplicates with that sample's id; files that do not decode
    or may not be stored are reported with the reason. Files that sound like
    one of the owner's samples (or an earlier file of the import) are
    near-duplicates: skipped, or with ``keep_duplicates`` stored and linked to
    it, as an upload with ``keep_duplicate``. ``files`` is consumed
    lazily, so a progress bar around it moves as files are read.
    """
    imported = Imported()
    chunk: list[tuple[Spooled, SampleFields]] = []
    for item in files:
        chunk.append(item)
        if len(chunk) >= (chunk_files or CHUNK_FILES):
            _import_chunk(owner, chunk, batch, imported, keep_duplicates)
            chunk = []
    if chunk:
        _import_chunk(owner, chunk, batch, imported, keep_duplicates)
    return imported


def _import_chunk(
    owner: User,
    chunk: list[tuple[Spooled, SampleFields]],
    batch: BatchJob | None,
    into: Imported,
    keep_duplicates: bool,
) -> None:
    held = selectors.samples_by_content(owner=owner, sha256s=[s.sha256 for s, _ in chunk])
    if COPY_CHECKS is not None:
        unheld = [spooled.path for spooled, _ in chunk if spooled.sha256 not in held]
        prepared = COPY_CHECKS.prepare(owner=owner, paths=unheld)
    fresh: list[tuple[Spooled, SampleFields, Sample]] = []
    checks: list[tuple[Sample, Any]] = []
    for spooled, fields in chunk:
        if spooled.sha256 in held:
            into.duplicates.append((spooled.name, str(held[spooled.sha256])))
            continue
        try:
            if fields.visibility == Visibility.PUBLIC and not has_permission(owner, "audio:share"):
                raise NotAllowed("This account's plan does not include sharing samples publicly.")
            sample = sample_build(owner=owner, spooled=spooled, fields=fields, batch=batch)
            check = None
            if COPY_CHECKS is not None:
                check = COPY_CHECKS.check(path=spooled.path, earlier=checks, prepared=prepared)
        except ProductError as exc:
            into.errors.append({"file": spooled.name, "error": exc.message, "code": exc.code})
            continue
        if check is not None:
            if check.original is not None:
                into.near_duplicates.append(
                    (spooled.name, str(check.original.pk), check.original.name)
                )
                if not keep_duplicates:
                    continue
            checks.append((sample, check))
        held[spooled.sha256] = sample.pk
        fields.keep_duplicate = keep_duplicates
        fresh.append((spooled, fields, sample))
    if fresh:
        into.created += _store_chunk(owner, fresh, batch, into, checks)


def _store_chunk(
    owner: User,
    fresh: list[tuple[Spooled, SampleFields, Sample]],
    batch: BatchJob | None,
    into: Imported,
    checks: list[tuple[Sample, Any]],
) -> list[Sample]:
    samples = [sample for _, _, sample in fresh]
    try:
        with transaction.atomic():
            # The same lock as an upload's: a parallel upload of the same content waits.
            User.objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
            for spooled, _, sample in fresh:
                with open(spooled.path, "rb") as handle:
                    sample.file.save(sample.original_filename, File(handle), save=False)
            Sample.objects.bulk_create(samples)
            if COPY_CHECKS is not None and checks:
                COPY_CHECKS.record(checks)
            enqueue_analyses((sample.pk, sample.duration) for sample in samples)
            # bulk_create sends no signals: retire the owner's cached search answers.
            public = any(sample.visibility == Visibility.PUBLIC for sample in samples)
            generations_bump(owner_ids=[owner.pk], public=public)
    except IntegrityError:
        # Something else stored one of these contents meanwhile: one file at a time,
        # so only that one is reported as a duplicate.
        _delete_files(samples)
        return _store_one_by_one(owner, fresh, batch, into)
    except BaseException:
        _delete_files(samples)
        raise
    return samples


def _store_one_by_one(
    owner: User,
    fresh: list[tuple[Spooled, SampleFields, Sample]],
    batch: BatchJob | None,
    into: Imported,
) -> list[Sample]:
    created = []
    for spooled, fields, _ in fresh:
        try:
            created.append(
                sample_create(
                    owner=owner, spooled=spooled, fields=fields, batch=batch, enforce_quotas=False
                )
            )
        except Duplicate as exc:
            into.duplicates.append((spooled.name, exc.details.get("sample_id", "")))
        except ProductError as exc:
            if exc.code == "near_duplicate":  # a copy stored meanwhile, copies not kept
                details = exc.details
                into.near_duplicates.append((spooled.name, details["sample_id"], details["name"]))
                continue
            into.errors.append({"file": spooled.name, "error": exc.message, "code": exc.code})
    return created


def _delete_files(samples: list[Sample]) -> None:
    for sample in samples:
        if sample.file:
            sample.file.delete(save=False)
