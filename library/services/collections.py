"""Collections: create, change, fill, order, delete, and pack as a zip."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import PurePath

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest

from accounts.audit import audit_log_record
from accounts.models import User
from accounts.rbac import has_permission, quota
from library import selectors
from library.models import Collection, CollectionItem, Sample, Visibility
from library.services.text import clean_description, clean_name
from samplemind.errors import Duplicate, NotAllowed, ProductError, QuotaExceeded
from search.cache import generations_bump


def _check_visibility(owner: User, visibility: str, current: str | None = None) -> None:
    if visibility == Visibility.PUBLIC and current != Visibility.PUBLIC:
        if not has_permission(owner, "collection:share"):
            raise NotAllowed("Your plan does not include sharing collections (collection:share).")


@transaction.atomic
def collection_create(
    *, owner: User, name: str, description: str = "", visibility: str = Visibility.PRIVATE
) -> Collection:
    User.objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
    limit = quota(owner, "collections")
    if limit is not None and selectors.collections_owned(user=owner).count() >= limit:
        raise QuotaExceeded(
            f"Your plan allows {limit} collections. Delete one or upgrade your plan.",
            details={"quota": "collections", "limit": limit},
        )
    _check_visibility(owner, visibility)
    collection = Collection(
        owner=owner,
        name=clean_name(name, fallback=""),
        description=clean_description(description),
        visibility=visibility,
    )
    if not collection.name:
        raise ProductError("Give the collection a name.", details={"name": ["Required."]})
    try:
        with transaction.atomic():
            collection.save()
    except IntegrityError:
        raise Duplicate(f"You already have a collection called “{collection.name}”.") from None
    collections_changed()
    return collection


def collections_changed() -> None:
    """Retire every cached search answer: collection names rank samples, and
    any sample may sit in anyone's collection, so the public generation goes."""
    generations_bump(public=True)


@transaction.atomic
def collection_update(*, collection: Collection, actor: User, **changes) -> Collection:
    _owner_only(collection, actor)
    if "visibility" in changes:
        _check_visibility(actor, changes["visibility"], collection.visibility)
        collection.visibility = changes["visibility"]
    if "name" in changes:
        collection.name = clean_name(changes["name"], fallback=collection.name)
    if "description" in changes:
        collection.description = clean_description(changes["description"])
    try:
        with transaction.atomic():
            collection.save()
    except IntegrityError:
        raise Duplicate(f"You already have a collection called “{collection.name}”.") from None
    collections_changed()
    return collection


def _owner_only(collection: Collection, actor: User) -> None:
    if collection.owner_id != actor.pk:
        raise NotAllowed("Only the owner can change this collection.")


def _visible_samples(actor: User, sample_ids: Iterable[str]) -> list[Sample]:
    ids = [str(pk) for pk in sample_ids]
    found = {str(s.pk): s for s in selectors.samples_visible(user=actor).filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ProductError(
            "Some samples do not exist or are not yours to add.", details={"sample_ids": missing}
        )
    return [found[pk] for pk in ids]


@transaction.atomic
def collection_add_samples(*, collection: Collection, actor: User, sample_ids: list[str]) -> int:
    """Append samples (yours or public ones) at the end; ones already there stay put."""
    _owner_only(collection, actor)
    samples = _visible_samples(actor, sample_ids)
    present = set(collection.items.values_list("sample_id", flat=True))
    end = collection.items.aggregate(end=Max("position"))["end"]
    position = -1 if end is None else end
    new = []
    for sample in samples:
        if sample.pk not in present:
            position += 1
            present.add(sample.pk)
            new.append(CollectionItem(collection=collection, sample=sample, position=position))
    CollectionItem.objects.bulk_create(new)
    collection.save(update_fields=["updated_at"])
    collections_changed()
    return len(new)


@transaction.atomic
def collection_remove_samples(*, collection: Collection, actor: User, sample_ids: list[str]) -> int:
    _owner_only(collection, actor)
    removed, _ = collection.items.filter(sample_id__in=[str(pk) for pk in sample_ids]).delete()
    collections_changed()
    return removed


@transaction.atomic
def collection_reorder(*, collection: Collection, actor: User, sample_ids: list[str]) -> None:
    """Put the collection in the given order; it must list exactly its samples."""
    _owner_only(collection, actor)
    items = {str(item.sample_id): item for item in collection.items.select_for_update()}
    wanted = [str(pk) for pk in sample_ids]
    if sorted(wanted) != sorted(items):
        raise ProductError(
            "The new order must list every sample of the collection exactly once.",
            details={"expected": len(items), "given": len(wanted)},
        )
    for position, pk in enumerate(wanted):
        items[pk].position = position
    CollectionItem.objects.bulk_update(items.values(), ["position"])


@transaction.atomic
def collection_delete(
    *, collection: Collection, actor: User, request: HttpRequest | None = None
) -> None:
    """Delete the collection (its samples stay in the library), keeping an audit entry."""
    _owner_only(collection, actor)
    details = {"collection_id": collection.pk, "name": collection.name}
    collection.delete()
    collections_changed()
    audit_log_record(action="collection.deleted", actor=actor, request=request, details=details)


def _safe_part(part: str) -> str:
    """One path part as a zip member may carry it (no separators, no leading dots)."""
    cleaned = "".join(c if c.isprintable() and c not in '/\\:*?"<>|' else "_" for c in part)
    return cleaned.strip(" .") or "_"


def zip_entries(samples: Iterable[Sample]) -> Iterator[tuple[str, Sample]]:
    """Unique, safe names inside a zip for the given samples, in order.

    Each sample keeps its original file name, inside the folders it was uploaded
    from (``Drums/Kicks/kick.wav``); a name already taken gets `` (2)``, `` (3)``…
    before its extension.
    """
    used: set[str] = set()
    for sample in samples:
        original = PurePath(sample.original_filename or f"{sample.name}.{sample.format}")
        folders = PurePath(sample.source_path.replace("\\", "/")).parent.parts
        parts = [_safe_part(p) for p in folders if p not in ("", ".", "..", "/")]
        stem = _safe_part(original.stem)
        suffix = original.suffix.lower() or f".{sample.format}"
        base = "/".join([*parts, stem])
        name, copy = f"{base}{suffix}", 1
        while name.lower() in used:
            copy += 1
            name = f"{base} ({copy}){suffix}"
        used.add(name.lower())
        yield name, sample


def write_zip(target, samples: Iterable[Sample], *, missing: Iterable[Sample] = ()) -> None:
    """Write the samples' original files into a zip (stored, not recompressed: audio).

    ``missing`` samples (files no longer stored) are listed in ``MISSING.txt``.
    """
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as bundle:
        for name, sample in zip_entries(samples):
            with sample.file.open("rb") as source, bundle.open(name, "w", force_zip64=True) as out:
                while chunk := source.read(1024 * 1024):
                    out.write(chunk)
        if lines := [f"{sample.name} ({sample.original_filename})" for sample in missing]:
            header = "These samples' files are no longer stored and were left out:"
            bundle.writestr("MISSING.txt", "\n".join([header, *lines, ""]))
