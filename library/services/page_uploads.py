"""Uploads from the upload page: one batch job per page upload, filled a file at a time.

The page sends each file in its own request (a progress bar each) with its path in
the dropped folder. The job collects every outcome, so its summary (ready,
duplicates, refused with reasons) stays reachable after the page is closed.
Folder names become tags and, when asked, each top folder becomes a collection;
folders inside a zip count the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.db import transaction

from accounts.models import User
from accounts.rbac import has_permission
from library.models import BatchJob, BatchKind, BatchStatus, Collection, Sample
from library.services.batches import batch_job_refresh
from library.services.collections import collection_add_samples, collection_create
from library.services.text import clean_tags
from library.services.uploads import (
    SampleFields,
    Spooled,
    _check_archive_directories,
    _expanded,
    _is_archive,
    sample_create,
)
from samplemind.errors import NotAllowed, ProductError

MAX_FILES_PER_PAGE_UPLOAD = 10_000


@dataclass
class FileOutcome:
    """What one sent file became: samples, and the reasons for what was refused."""

    samples: list[Sample] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def clean_path(path: str | None, fallback: str) -> PurePosixPath:
    """The relative path a browser gave for a file, without empty, ``.`` or ``..`` parts."""
    parts = [p for p in str(path or "").replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return PurePosixPath(*parts) if parts else PurePosixPath(fallback)


def folder_tags(path: PurePosixPath) -> list[str]:
    """Every folder above the file, as tags: ``Pack/Drums/Kicks/k.wav`` -> pack, drums, kicks."""
    return clean_tags([part.replace("_", " ") for part in path.parent.parts])


def upload_batch_start(*, owner: User, total: int) -> BatchJob:
    """A running upload job expecting ``total`` files (zips count once until expanded)."""
    total = max(1, min(int(total), MAX_FILES_PER_PAGE_UPLOAD))
    return BatchJob.objects.create(
        owner=owner, kind=BatchKind.UPLOAD, status=BatchStatus.RUNNING, total=total
    )


def upload_batch_add(
    *,
    job: BatchJob,
    spooled: Spooled,
    path: str | None,
    folder_collections: bool = False,
    keep_duplicate: bool = False,
) -> FileOutcome:
    """Store one sent file (a zip: each audio member) in ``job``; record every refusal on it.

    ``keep_duplicate``: a file sent again after it was refused as a near-duplicate
    ("Keep anyway"); stored linked to the sample it copies, its refusal leaves the job.
    """
    where = clean_path(path, spooled.name)
    outcome = FileOutcome()
    try:
        if _is_archive(spooled):
            _add_archive(job, spooled, where, folder_collections, outcome, keep_duplicate)
        else:
            _add_one(job, spooled, where, folder_collections, outcome, keep_duplicate)
    except ProductError as exc:
        outcome.errors.append(_refusal(str(where), exc))
    if keep_duplicate and outcome.samples:
        _forget_near_duplicates(job, {s.source_path for s in outcome.samples})
    _record(job, outcome.errors)
    batch_job_refresh(job=BatchJob.objects.get(pk=job.pk))
    return outcome


def upload_batch_not_sent(*, job: BatchJob, path: str, reason: str) -> None:
    """Record a file of the job that never reached the server, with the page's reason."""
    _record(job, [{"file": path or "a file", "error": reason, "code": "not_sent"}])
    batch_job_refresh(job=BatchJob.objects.get(pk=job.pk))


def _refusal(name: str, exc: ProductError) -> dict:
    # Messages often start with the file's own name; the entry names the file already.
    message = exc.message.removeprefix(f"{PurePosixPath(name).name}: ")
    return {**exc.details, "file": name, "error": message, "code": exc.code}


def _add_one(
    job: BatchJob,
    spooled: Spooled,
    where: PurePosixPath,
    collections: bool,
    outcome: FileOutcome,
    keep_duplicate: bool = False,
) -> None:
    fields = SampleFields(
        extra_tags=folder_tags(where), source_path=str(where), keep_duplicate=keep_duplicate
    )
    sample = sample_create(owner=job.owner, spooled=spooled, fields=fields, batch=job)
    outcome.samples.append(sample)
    if collections:
        _collect(job, sample, where, outcome)


def _add_archive(
    job: BatchJob,
    spooled: Spooled,
    where: PurePosixPath,
    collections: bool,
    outcome: FileOutcome,
    keep_duplicate: bool = False,
) -> None:
    if not has_permission(job.owner, "audio:batch"):
        raise NotAllowed("Your plan does not include zip and batch uploads (audio:batch).")
    _check_archive_directories(job.owner, [spooled])
    # The zip's own folder (if it sat in a dropped folder) comes before its members' folders.
    base = where.parent
    with _expanded([spooled]) as (members, skipped):
        outcome.errors += [{**entry, "code": "skipped"} for entry in skipped]
        with transaction.atomic():
            locked = BatchJob.objects.select_for_update(no_key=True).get(pk=job.pk)
            # The zip was counted as one file; its members replace it.
            BatchJob.objects.filter(pk=job.pk).update(total=locked.total + len(members) - 1)
        for member in members:
            inner = base / clean_path(member.name, PurePosixPath(member.name).name)
            try:
                _add_one(job, member, inner, collections, outcome, keep_duplicate)
            except ProductError as exc:
                outcome.errors.append(_refusal(str(inner), exc))


def _collect(job: BatchJob, sample: Sample, where: PurePosixPath, outcome: FileOutcome) -> None:
    """Add the sample to the collection named after its top folder, made on first use."""
    if len(where.parts) < 2:
        return
    name = where.parts[0]
    try:
        with transaction.atomic():
            # One file at a time, so two requests do not both create it. The owner's row, as
            # sample_create and collection_create lock it: the same order, so no deadlock.
            User.objects.select_for_update(no_key=True).filter(pk=job.owner_id).first()
            collection = Collection.objects.filter(owner=job.owner, name=name).first()
            if collection is None:
                collection = collection_create(owner=job.owner, name=name)
            collection_add_samples(
                collection=collection, actor=job.owner, sample_ids=[str(sample.pk)]
            )
    except ProductError as exc:
        outcome.errors.append(
            {
                "file": str(where),
                "error": f"Stored, but not collected: {exc.message}",
                "code": "not_collected",
            }
        )


def _forget_near_duplicates(job: BatchJob, paths: set[str]) -> None:
    """Files kept after all: their near-duplicate refusals leave the job, which counts again."""
    with transaction.atomic():
        locked = BatchJob.objects.select_for_update(no_key=True).get(pk=job.pk)
        kept = [
            e for e in locked.errors if e.get("code") == "near_duplicate" and e["file"] in paths
        ]
        if not kept:
            return
        locked.errors = [e for e in locked.errors if e not in kept]
        # A job finished by counting the refusals is running again until the kept ones are read.
        locked.finished_at = None
        locked.status = BatchStatus.RUNNING
        locked.save(update_fields=["errors", "finished_at", "status"])


def _record(job: BatchJob, errors: list[dict]) -> None:
    if not errors:
        return
    with transaction.atomic():
        # NO KEY: a sample being stored for this job (its foreign key) need not wait.
        locked = BatchJob.objects.select_for_update(no_key=True).get(pk=job.pk)
        locked.errors = [*locked.errors, *errors]
        locked.save(update_fields=["errors"])


def upload_summary(job: BatchJob) -> dict:
    """Counts and lists for the summary: ready, still analysing, failed, duplicates, refused."""
    samples = list(job.samples.order_by("source_path", "name").defer("embedding"))
    by_status: dict[str, list[Sample]] = {}
    for sample in samples:
        by_status.setdefault(sample.status, []).append(sample)
    errors = list(job.errors)
    refused = [e for e in errors if e.get("code") not in ("duplicate", "not_collected", "skipped")]
    return {
        "samples": samples,
        "ready": by_status.get("ready", []),
        "analysing": by_status.get("pending", []) + by_status.get("analyzing", []),
        "failed": by_status.get("failed", []),
        "duplicates": [e for e in errors if e.get("code") == "duplicate"],
        "refused": refused,
        "refused_count": len(refused) + len(by_status.get("failed", [])),
        "notes": [e for e in errors if e.get("code") == "not_collected"],
        "finished": job.finished_at is not None,
    }
