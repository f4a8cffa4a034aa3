"""Taking files in: validation by decoding, duplicates, quotas, storage, then analysis."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.rbac import has_permission, quota
from library import analysis as analyser
from library import selectors
from library.archives import declared_audio, extract_zip, is_zip
from library.errors import FileTooLarge, InvalidAudio
from library.models import BatchJob, BatchKind, BatchStatus, Sample, Visibility
from library.services.queue import enqueue_analysis
from library.services.text import clean_description, clean_name, clean_tags
from organise.services.duplicates import near_duplicate_check, near_duplicate_record
from samplemind.errors import Duplicate, NotAllowed, ProductError, QuotaExceeded
from samplemind.text import human_bytes
from search.cache import generations_bump

CHUNK = 1024 * 1024


@dataclass
class Spooled:
    """A file copied to local disk, with its digest: what every upload path produces."""

    name: str  # the name the person gave it (or its path inside an archive)
    path: Path
    sha256: str
    size: int


@dataclass
class SampleFields:
    name: str | None = None
    description: str | None = None
    tags: list[str] | str | None = None
    visibility: str = Visibility.PRIVATE
    extra_tags: list[str] = field(default_factory=list)
    # Store a near-duplicate of a sample already in the library (linked to it) instead of
    # refusing it with organise.errors.NearDuplicate.
    keep_duplicate: bool = False
    # The file's path in the uploaded folder or zip (Sample.source_path).
    source_path: str = ""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def spooled_uploads(uploads: list[UploadedFile]) -> Iterator[list[Spooled]]:
    """Copy uploaded files to a temporary folder, hashing and size-checking as they stream."""
    limit = settings.SAMPLEMIND_MAX_UPLOAD_BYTES
    folder = Path(tempfile.mkdtemp(prefix="samplemind-upload-"))
    try:
        spooled = []
        for index, upload in enumerate(uploads):
            name = PurePath(str(upload.name or "upload").replace("\\", "/")).name[:255]
            if upload.size is not None and upload.size > limit:
                raise FileTooLarge(
                    f"{name} is {human_bytes(upload.size)}; the limit is {human_bytes(limit)}."
                )
            target = folder / f"{index:05d}{PurePath(name).suffix.lower()[:8]}"
            digest, size = hashlib.sha256(), 0
            with open(target, "wb") as out:
                for chunk in upload.chunks(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise FileTooLarge(f"{name} is larger than {human_bytes(limit)}.")
                    digest.update(chunk)
                    out.write(chunk)
            spooled.append(Spooled(name=name, path=target, sha256=digest.hexdigest(), size=size))
        yield spooled
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _is_archive(spooled: Spooled) -> bool:
    # The content decides, not the name: a pack saved as ".wav" is still expanded,
    # and a recording saved as ".zip" is still imported as audio.
    return is_zip(spooled.path)


def _refuse_batch_size(count: int, batch_size: int) -> None:
    raise QuotaExceeded(
        f"This batch has {count} files; your plan allows {batch_size} "
        "per batch. Split it or upgrade your plan.",
        details={"quota": "batch_size", "limit": batch_size},
    )


def _refuse_storage(*, size: int, used: int, storage: int) -> None:
    raise QuotaExceeded(
        f"This needs {human_bytes(size)} but only {human_bytes(max(storage - used, 0))} "
        f"of your {human_bytes(storage)} storage is free. Delete samples or upgrade.",
        details={"quota": "storage_bytes", "limit": storage, "used": used},
    )


def _check_archive_directories(owner: User, files: list[Spooled]) -> None:
    """Batch size and storage from the archives' central directories, before extracting.

    An archive that lists more audio files than the plan's batch size, or
    declares more bytes than the free storage, is refused without expanding a
    byte of it. Members named and sized like one of the owner's samples are
    left out of the storage sum: a pack uploaded again is mostly duplicates,
    which take no room, and the exact checks (duplicates found by content)
    follow extraction.
    """
    archives = [f for f in files if _is_archive(f)]
    if not archives:
        return
    declared: list[tuple[str, int]] = []
    count, size = 0, 0
    for spooled in files:
        if spooled in archives:
            declared += declared_audio(spooled.path)
        else:
            count, size = count + 1, size + spooled.size
    count += len(declared)
    batch_size = quota(owner, "batch_size")
    if batch_size is not None and count > batch_size:
        _refuse_batch_size(count, batch_size)
    storage = quota(owner, "storage_bytes")
    if storage is not None:
        held = selectors.files_held(owner=owner, files=declared)
        size += sum(bytes_ for name, bytes_ in declared if (name, bytes_) not in held)
        used = selectors.storage_used(owner=owner)
        if used + size > storage:
            _refuse_storage(size=size, used=used, storage=storage)


def _check_quotas(owner: User, *, files: int, size: int) -> None:
    daily = quota(owner, "uploads_per_day")
    if daily is not None:
        used = selectors.uploads_today(owner=owner)
        if used + files > daily:
            left = max(daily - used, 0)
            raise QuotaExceeded(
                f"Your plan allows {daily} uploads a day; {left} left today "
                f"and this needs {files}. Try again tomorrow or upgrade your plan.",
                details={"quota": "uploads_per_day", "limit": daily, "used": used},
            )
    storage = quota(owner, "storage_bytes")
    if storage is not None:
        used = selectors.storage_used(owner=owner)
        if used + size > storage:
            _refuse_storage(size=size, used=used, storage=storage)


def _new_content(owner: User, candidates: list[Spooled]) -> list[Spooled]:
    """The candidates that would become samples: not in the library, first of their content."""
    held = selectors.contents_owned(owner=owner, sha256s=[c.sha256 for c in candidates])
    fresh = []
    for candidate in candidates:
        if candidate.sha256 not in held:
            held.add(candidate.sha256)
            fresh.append(candidate)
    return fresh


def _probe(path: Path, name: str):
    """Decode the start of the file: this, not the extension, decides what is audio.

    Two seconds prove it decodes; the length comes from the header, and
    nothing past the excerpt is read (the worker measures the whole file).
    """
    try:
        audio = analyser.decode_audio(path, max_seconds=2.0, levels_max_seconds=0)
    except analyser.AudioDecodeError as exc:
        raise InvalidAudio(f"{name}: {exc}") from None
    if audio.duration is not None and audio.duration > settings.SAMPLEMIND_MAX_AUDIO_SECONDS:
        minutes = settings.SAMPLEMIND_MAX_AUDIO_SECONDS / 60
        raise InvalidAudio(f"{name} is longer than {minutes:.0f} minutes.")
    return audio


def sample_build(
    *, owner: User, spooled: Spooled, fields: SampleFields, batch: BatchJob | None
) -> Sample:
    """An unsaved sample for a file that decodes (else :class:`InvalidAudio`), file not stored."""
    audio = _probe(spooled.path, spooled.name)
    stem = PurePath(spooled.name).stem.replace("_", " ").strip()
    return Sample(
        owner=owner,
        batch=batch,
        original_filename=PurePath(spooled.name).name[:255],
        source_path=fields.source_path[:500],
        name=clean_name(fields.name or stem, fallback="Untitled sample"),
        description=clean_description(fields.description),
        tags=clean_tags([*clean_tags(fields.tags), *fields.extra_tags]),
        visibility=fields.visibility,
        sha256=spooled.sha256,
        size_bytes=spooled.size,
        format=audio.format,
        duration=audio.duration,
        sample_rate=audio.sample_rate,
        channels=audio.channels,
        bit_depth=audio.bit_depth,
    )


def sample_create(
    *,
    owner: User,
    spooled: Spooled,
    fields: SampleFields | None = None,
    batch: BatchJob | None = None,
    enforce_quotas: bool = True,
) -> Sample:
    """Store one audio file as a new sample and queue its analysis.

    Raises :class:`Duplicate` (with the existing sample's id) when the owner
    already has the same content, :class:`InvalidAudio` when it does not decode,
    :class:`QuotaExceeded` when the owner's plan does not allow it.
    """
    fields = fields or SampleFields()
    if fields.visibility == Visibility.PUBLIC and not has_permission(owner, "audio:share"):
        raise NotAllowed("Your plan does not include sharing samples publicly (audio:share).")
    existing = selectors.sample_by_content(owner=owner, sha256=spooled.sha256)
    if existing is not None:
        raise Duplicate(
            f"{spooled.name} is already in your library as “{existing.name}”.",
            details={"sample_id": str(existing.pk)},
        )
    sample = sample_build(owner=owner, spooled=spooled, fields=fields, batch=batch)
    copy = near_duplicate_check(
        owner=owner, path=spooled.path, name=spooled.name, keep=fields.keep_duplicate
    )
    with transaction.atomic():
        # One upload at a time per owner, so two parallel requests cannot both
        # squeeze under a quota.
        # Serialises quota checks; NO KEY leaves foreign-key checks on the account free.
        User.objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
        if enforce_quotas:
            _check_quotas(owner, files=1, size=spooled.size)
        with open(spooled.path, "rb") as handle:
            sample.file.save(sample.original_filename, File(handle), save=False)
        try:
            with transaction.atomic():
                sample.save()
                near_duplicate_record(sample=sample, check=copy)
        except IntegrityError:
            sample.file.delete(save=False)
            raise Duplicate(f"{spooled.name} is already in your library.") from None
        except BaseException:
            sample.file.delete(save=False)
            raise
        generations_bump(owner_ids=[owner.pk], public=sample.visibility == Visibility.PUBLIC)
        _enqueue_analysis(sample)
    return sample


def _enqueue_analysis(sample: Sample) -> None:
    enqueue_analysis(str(sample.pk))


def batch_upload(
    *,
    owner: User,
    files: list[Spooled],
    fields: SampleFields | None = None,
    kind: str = BatchKind.UPLOAD,
    enforce_quotas: bool = True,
) -> BatchJob:
    """Store several files (zip archives are expanded) as one batch job.

    The whole batch is refused up front when it breaks the archive rules or the
    plan's batch size, daily uploads or storage; after that each file succeeds
    or fails on its own, and the job lists every failure with its reason.
    """
    if enforce_quotas:
        _check_archive_directories(owner, files)
    with _expanded(files) as (candidates, skipped):
        if not candidates:
            raise InvalidAudio("No audio files found in this upload.", details={"skipped": skipped})
        if enforce_quotas:
            batch_size = quota(owner, "batch_size")
            if batch_size is not None and len(candidates) > batch_size:
                _refuse_batch_size(len(candidates), batch_size)
            # Duplicates will be refused, not stored: they cost neither uploads nor space.
            fresh = _new_content(owner, candidates)
            _check_quotas(owner, files=len(fresh), size=sum(c.size for c in fresh))
        job = BatchJob.objects.create(
            owner=owner, kind=kind, status=BatchStatus.RUNNING, total=len(candidates)
        )
        errors = list(skipped)
        for candidate in candidates:
            try:
                sample_create(
                    owner=owner, spooled=candidate, fields=fields, batch=job, enforce_quotas=False
                )
            except ProductError as exc:
                errors.append(
                    {"file": candidate.name, "error": exc.message, "code": exc.code, **exc.details}
                )
        job.errors = errors
        job.save(update_fields=["errors"])
    from library.services.batches import batch_job_refresh

    return batch_job_refresh(job=job)


@contextmanager
def _expanded(files: list[Spooled]) -> Iterator[tuple[list[Spooled], list[dict]]]:
    """Replace zip archives by their audio members (hashed); keep other files as they are."""
    candidates: list[Spooled] = []
    skipped: list[dict] = []
    with ExitStack() as stack:
        for spooled in files:
            if _is_archive(spooled):
                members, left_out = stack.enter_context(
                    extract_zip(
                        spooled.path,
                        max_members=settings.SAMPLEMIND_MAX_ARCHIVE_MEMBERS,
                        max_total_bytes=settings.SAMPLEMIND_MAX_ARCHIVE_BYTES,
                        max_file_bytes=settings.SAMPLEMIND_MAX_UPLOAD_BYTES,
                    )
                )
                skipped += [{**entry, "code": "skipped"} for entry in left_out]
                for member in members:
                    candidates.append(
                        Spooled(
                            name=member.name,
                            path=member.path,
                            sha256=file_digest(member.path),
                            size=member.path.stat().st_size,
                        )
                    )
            else:
                candidates.append(spooled)
        yield candidates, skipped
