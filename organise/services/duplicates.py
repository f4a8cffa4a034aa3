"""Near-duplicates: checked on upload, recorded beside the sample, resolved by keeping one."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from accounts.models import User
from library.analysis import AudioDecodeError
from library.models import Sample
from library.services.samples import sample_delete
from organise import fingerprint as fp
from organise import selectors
from organise.audio import fingerprint_file
from organise.errors import NearDuplicate
from organise.matching import CANDIDATES, SKETCH_RADIUS, closest_copy, sketch_distances
from organise.models import SampleFingerprint


@dataclass
class CopyCheck:
    """An upload's fingerprint and the sample it copies, if any (kept by choice)."""

    print_: fp.Fingerprint
    sketch: list[float]
    original: Sample | None = None
    distance: float | None = None
    # The stored samples nearest its sketch (``selectors.duplicate_candidates``) as
    # (sketch distance, sample, fingerprint), until ``_decide`` has compared them.
    stored: list[tuple[float, Sample, fp.Fingerprint]] = field(default_factory=list, repr=False)


def near_duplicate_check(*, owner: User, path: Path, name: str, keep: bool) -> CopyCheck | None:
    """Fingerprint an upload and look for the sample it copies in the owner's library.

    Raises :class:`NearDuplicate` naming that sample unless ``keep``; then the
    check is returned so that ``near_duplicate_record`` links the new sample to
    it. None when the file cannot be fingerprinted (the decoder has already
    accepted it, so this only skips the check).
    """
    check = _fingerprinted(path)
    if check is None:
        return None
    _find_stored_candidates(owner, [check])
    _decide(check, earlier=())
    if check.original is not None and not keep:
        raise NearDuplicate(
            f"{name} sounds like “{check.original.name}”, already in your library.",
            details={
                "sample_id": str(check.original.pk),
                "name": check.original.name,
                "distance_db": round(check.distance, 2),
                "keep_both": "send it again with keep_duplicate=1",
            },
        )
    return check


def _fingerprinted(path: Path) -> CopyCheck | None:
    try:
        print_ = fingerprint_file(path)
    except (AudioDecodeError, ValueError):
        return None
    return CopyCheck(print_=print_, sketch=fp.sketch(print_))


def _find_stored_candidates(owner: User, checks: list[CopyCheck]) -> None:
    """Each check's nearest stored samples, one query for all of them.

    A sample near several files of a chunk is read into one fingerprint, whose
    envelope is then worked out once.
    """
    found = selectors.duplicate_candidates(owner=owner, sketches=[c.sketch for c in checks])
    prints: dict = {}
    for check, stored in zip(checks, found, strict=True):
        for sample in stored:
            if sample.pk not in prints:
                prints[sample.pk] = fp.Fingerprint.from_bytes(bytes(sample.frames))
        check.stored = [(s.sketch_distance, s, prints[s.pk]) for s in stored]


def _decide(check: CopyCheck, earlier: Sequence[tuple[Sample, CopyCheck]]) -> CopyCheck:
    """Compare ``check`` exactly with its nearest candidates; the closest copy is its original.

    ``earlier`` are files of an import not stored yet (pairs of a sample and its
    check); they and the stored samples make one list, the CANDIDATES nearest
    sketches of both, as the benchmark's ``SketchIndex`` has.
    """
    candidates = list(check.stored)
    distances = sketch_distances(check.sketch, [c.sketch for _, c in earlier])
    candidates += [
        (float(d), sample, c.print_)
        for d, (sample, c) in zip(distances, earlier, strict=True)
        if d <= SKETCH_RADIUS
    ]
    candidates.sort(key=lambda candidate: candidate[0])  # stable: stored first on a tie
    found = closest_copy(check.print_, ((s, p) for _, s, p in candidates[:CANDIDATES]))
    check.stored = []  # compared: their frames need not stay in memory
    if found is not None:
        check.original, check.distance = found
    return check


def _fingerprint_row(sample: Sample, check: CopyCheck) -> SampleFingerprint:
    return SampleFingerprint(
        sample=sample,
        owner_id=sample.owner_id,
        sketch=check.sketch,
        frames=check.print_.to_bytes(),
        near_duplicate_of=check.original,
        distance=check.distance,
    )


def near_duplicate_record(*, sample: Sample, check: CopyCheck | None) -> None:
    """Store a new sample's fingerprint (and its link to the sample it copies)."""
    if check is not None:
        _fingerprint_row(sample, check).save(force_insert=True)


def sample_fingerprint(*, sample: Sample) -> SampleFingerprint | None:
    """Fingerprint a sample stored before fingerprints existed, linking it to an earlier copy."""
    if SampleFingerprint.objects.filter(sample=sample).exists():
        return None
    with sample.file.open("rb") as handle, _local_copy(handle) as path:
        check = near_duplicate_check(owner=sample.owner, path=path, name=sample.name, keep=True)
    if check is None:
        return None
    if check.original is not None and check.original.created_at > sample.created_at:
        check.original, check.distance = None, None  # only ever link to an older sample
    near_duplicate_record(sample=sample, check=check)
    return SampleFingerprint.objects.get(sample=sample)


def near_duplicate_records(pairs: list[tuple[Sample, CopyCheck | None]]) -> None:
    """``near_duplicate_record`` for many new samples at once (one INSERT; imports)."""
    SampleFingerprint.objects.bulk_create(
        _fingerprint_row(sample, check) for sample, check in pairs if check is not None
    )


def import_copy_checks_prepare(*, owner: User, paths: list[Path]) -> dict[Path, CopyCheck | None]:
    """The fingerprints of an import chunk's files (library.services.imports.COPY_CHECKS)
    and their nearest stored samples, with one query for the whole chunk."""
    checks = {path: _fingerprinted(path) for path in paths}
    _find_stored_candidates(owner, [c for c in checks.values() if c is not None])
    return checks


def import_copy_check(
    *,
    path: Path,
    earlier: list[tuple[Sample, CopyCheck]],
    prepared: dict[Path, CopyCheck | None],
) -> CopyCheck | None:
    """An imported file's check (library.services.imports.COPY_CHECKS): its stored
    candidates (``import_copy_checks_prepare``) and the files of its chunk not stored
    yet, as one list of candidates."""
    check = prepared[path]
    return None if check is None else _decide(check, earlier)


@contextmanager
def _local_copy(handle) -> Iterator[Path]:
    """A stored file (perhaps in a bucket) as a local path the decoder can read."""
    with tempfile.NamedTemporaryFile(prefix="samplemind-fp-") as out:
        shutil.copyfileobj(handle, out)
        out.flush()
        yield Path(out.name)


@transaction.atomic
def duplicates_keep_one(*, owner: User, keep: Sample) -> int:
    """Delete the other samples of ``keep``'s group; returns how many went."""
    group = selectors.duplicate_group_of(owner=owner, sample_id=keep.pk)
    others = [s for s in group if s.pk != keep.pk]
    for sample in others:
        sample_delete(sample=sample, actor=owner)
    SampleFingerprint.objects.filter(sample=keep).update(near_duplicate_of=None, distance=None)
    return len(others)


@transaction.atomic
def duplicates_dismiss(*, owner: User, sample: Sample) -> int:
    """Not copies after all: unlink ``sample``'s group; every sample stays."""
    ids = [s.pk for s in selectors.duplicate_group_of(owner=owner, sample_id=sample.pk)]
    return SampleFingerprint.objects.filter(owner=owner, sample_id__in=ids).update(
        near_duplicate_of=None, distance=None
    )


# Samples fingerprinted per query in a backfill, so memory stays flat on a large library.
BACKFILL_BATCH = 200


def fingerprints_backfill(*, owner: User | None = None, limit: int | None = None) -> int:
    """Fingerprint samples stored without one (oldest first); returns how many were done.

    Oldest first, so each sample can be linked to an earlier copy already
    fingerprinted. Idempotent: a sample with a fingerprint is never looked at
    again; one that cannot be decoded is skipped (and tried again next time).
    """
    done = 0
    unreadable: set = set()  # left without a fingerprint this run: not fetched again
    while limit is None or done < limit:
        pending = selectors.samples_without_fingerprint(owner=owner).exclude(pk__in=unreadable)
        batch = list(pending[:BACKFILL_BATCH])
        if not batch:
            break
        for sample in batch:
            try:
                made = sample_fingerprint(sample=sample)
            except (OSError, ValueError):  # a missing or unreadable file: left for later
                made = None
            if made is None:
                unreadable.add(sample.pk)
                continue
            done += 1
            if limit is not None and done >= limit:
                break
    return done
