"""Changing and deleting samples."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction
from django.http import HttpRequest

from accounts.audit import audit_log_record
from accounts.models import User
from accounts.rbac import has_permission
from library.models import Sample, SampleDeletion, Visibility
from library.services.corrections import sample_correct
from library.services.text import clean_description, clean_name, clean_tags
from samplemind.errors import NotAllowed
from search.cache import generations_bump

EDITABLE = ("name", "description", "tags", "visibility")
logger = logging.getLogger(__name__)


@transaction.atomic
def sample_update(
    *,
    sample: Sample,
    actor: User,
    corrections: dict | None = None,
    reset: Sequence[str] = (),
    **changes,
) -> Sample:
    """Change a sample's name, description, tags or visibility (only its owner may).

    ``corrections`` and ``reset`` go to ``sample_correct`` in the same transaction.
    """
    if sample.owner_id != actor.pk:
        raise NotAllowed("Only the owner can change this sample.")
    if corrections or reset:
        sample = sample_correct(sample=sample, actor=actor, changes=corrections or {}, reset=reset)
    if "visibility" in changes and changes["visibility"] == Visibility.PUBLIC:
        if sample.visibility != Visibility.PUBLIC and not has_permission(actor, "audio:share"):
            raise NotAllowed("Your plan does not include sharing samples publicly (audio:share).")
    cleaners = {
        "name": lambda v: clean_name(v, fallback=sample.name),
        "description": clean_description,
        "tags": clean_tags,
        "visibility": str,
    }
    was_public = sample.visibility == Visibility.PUBLIC
    updated = []
    for field, value in changes.items():
        if field in EDITABLE:
            setattr(sample, field, cleaners[field](value))
            updated.append(field)
    if updated:
        sample.save(update_fields=[*updated, "updated_at"])
        sample_search_retire(sample, was_public=was_public)
    return sample


def sample_save_as_admin(*, sample: Sample, was_public: bool) -> Sample:
    """Store a sample as edited in the admin (fields already validated by its form)."""
    sample.save()
    sample_search_retire(sample, was_public=was_public)
    return sample


def sample_search_retire(sample: Sample, *, was_public: bool = False) -> None:
    """Retire cached search answers that may show ``sample`` as it was.

    Its owner's always; everyone's when it is or was public (others may have seen it).
    """
    public = was_public or sample.visibility == Visibility.PUBLIC
    generations_bump(owner_ids=[sample.owner_id], public=public)


def sample_delete(
    *, sample: Sample, actor: User, request: HttpRequest | None = None, as_admin: bool = False
) -> None:
    """Delete a sample, its original, preview and analysis history; files go after commit."""
    if sample.owner_id != actor.pk and not as_admin:
        raise NotAllowed("Only the owner can delete this sample.")
    files = [f for f in (sample.file, sample.preview) if f]
    storage_names = [(f.storage, f.name) for f in files]
    details = {"name": sample.name, "sha256": sample.sha256}
    target_id = str(sample.pk)
    with transaction.atomic():
        SampleDeletion.objects.create(
            owner_id=sample.owner_id,
            sample_id=sample.pk,
            sha256=sample.sha256,
            size_bytes=sample.size_bytes,
            uploaded_at=sample.created_at,
        )
        sample_search_retire(sample)
        sample.delete()
        audit_log_record(
            action="sample.deleted",
            actor=actor,
            request=request,
            details={**details, "sample_id": target_id},
        )
        # A rolled-back delete keeps its files.
        transaction.on_commit(lambda: _delete_files(storage_names))


def samples_delete_owned(*, owner: User) -> int:
    """Delete every sample of ``owner`` with its files (an account being deleted).

    Rows go in the caller's transaction; originals and previews go from storage
    (local or S3) once it commits, so a rolled-back account deletion keeps them.
    Returns how many samples were deleted.
    """
    file_storage = Sample._meta.get_field("file").storage
    preview_storage = Sample._meta.get_field("preview").storage
    storage_names = []
    for file_name, preview_name in Sample.objects.filter(owner=owner).values_list(
        "file", "preview"
    ):
        if file_name:
            storage_names.append((file_storage, file_name))
        if preview_name:
            storage_names.append((preview_storage, preview_name))
    with transaction.atomic():
        deleted, _ = Sample.objects.filter(owner=owner).delete()
        # Everyone's answers too: public samples and the owner's collections go.
        generations_bump(owner_ids=[owner.pk], public=True)
        transaction.on_commit(lambda: _delete_files(storage_names))
    return deleted


def _delete_files(storage_names) -> None:
    for storage, name in storage_names:
        try:
            storage.delete(name)
        except OSError:
            # One unreadable file must not keep the others: the row is gone either way.
            logger.warning("could not delete stored file %s", name, exc_info=True)
