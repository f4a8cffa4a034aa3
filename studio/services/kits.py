"""Kits: made, renamed, shared, filled pad by pad, deleted, and written out for samplers."""

from __future__ import annotations

import zipfile
from pathlib import PurePath
from typing import IO
from uuid import UUID

from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.rbac import has_permission
from library import selectors as library_selectors
from library.models import Visibility
from library.services.text import clean_description, clean_name
from samplemind.errors import Duplicate, NotAllowed, ProductError
from studio import exports
from studio.models import PADS, Kit, KitPad

EXPORT_FORMATS = ("sfz", "dspreset", "adg", "zip")


def _check_share(actor: User, visibility: str) -> None:
    if visibility == Visibility.PUBLIC and not has_permission(actor, "collection:share"):
        raise NotAllowed("Your plan does not include sharing (collection:share).")


def kit_create(
    *, owner: User, name: str, description: str = "", visibility: str = Visibility.PRIVATE
) -> Kit:
    _check_share(owner, visibility)
    kit = Kit(
        owner=owner,
        name=clean_name(name, fallback="Untitled kit"),
        description=clean_description(description),
        visibility=visibility,
    )
    try:
        with transaction.atomic():
            kit.save()
    except IntegrityError:
        raise Duplicate(f"You already have a kit called “{kit.name}”.") from None
    return kit


def kit_update(*, kit: Kit, actor: User, **fields) -> Kit:
    if kit.owner_id != actor.pk:
        raise NotAllowed("Only the owner can change this kit.")
    if "visibility" in fields:
        _check_share(actor, fields["visibility"])
    if "name" in fields:
        fields["name"] = clean_name(fields["name"], fallback="Untitled kit")
    if "description" in fields:
        fields["description"] = clean_description(fields["description"])
    for name, value in fields.items():
        setattr(kit, name, value)
    try:
        with transaction.atomic():
            kit.save()
    except IntegrityError:
        raise Duplicate(f"You already have a kit called “{kit.name}”.") from None
    return kit


def kit_delete(*, kit: Kit, actor: User) -> None:
    if kit.owner_id != actor.pk:
        raise NotAllowed("Only the owner can delete this kit.")
    kit.delete()


@transaction.atomic
def kit_set_pads(*, kit: Kit, actor: User, pads: dict[int, UUID | None]) -> list[KitPad]:
    """Put samples on pads (``{pad: sample_id}``; None empties a pad); others stay.

    Only samples ``actor`` may open can go on a pad; any other id is refused
    (400, naming the pad) and nothing changes.
    """
    if kit.owner_id != actor.pk:
        raise NotAllowed("Only the owner can change this kit.")
    wanted = {sample_id for sample_id in pads.values() if sample_id is not None}
    visible = set(
        library_selectors.samples_visible(user=actor)
        .filter(pk__in=wanted)
        .values_list("pk", flat=True)
    )
    unknown = {
        str(pad + 1): ["No such sample."]
        for pad, sample_id in pads.items()
        if sample_id is not None and sample_id not in visible
    }
    if unknown:
        raise ProductError("Some pads name samples you cannot use.", details={"pads": unknown})
    KitPad.objects.filter(kit=kit, pad__in=list(pads)).delete()
    KitPad.objects.bulk_create(
        KitPad(kit=kit, pad=pad, sample_id=sample_id)
        for pad, sample_id in sorted(pads.items())
        if sample_id is not None and 0 <= pad < PADS
    )
    kit.save(update_fields=["updated_at"])
    return list(kit.pads.select_related("sample"))


def pad_entries(pads: list[KitPad], folder: str = "Samples") -> list[exports.PadEntry]:
    """What the exports say about each pad; sample files go under ``folder``."""
    entries = []
    for pad in pads:
        sample = pad.sample
        suffix = PurePath(sample.file.name).suffix.lower() or ".wav"
        entries.append(
            exports.PadEntry(
                pad=pad.pad,
                note=pad.note,
                path=f"{folder}/{pad.pad + 1:02d} {exports.safe_name(sample.name)}{suffix}",
                name=sample.name,
                category=sample.category,
                root_note=(sample.descriptors or {}).get("root_note"),
                is_loop=bool(sample.is_loop),
                bpm=sample.bpm,
                key=sample.key,
                mode=sample.mode,
                duration=sample.duration,
                sample_id=str(sample.pk),
            )
        )
    return entries


def kit_write_export(kit: Kit, pads: list[KitPad], fmt: str, out: IO[bytes]) -> list[str]:
    """Write the kit as a zip for ``fmt`` (sfz, dspreset, adg or zip) to ``out``; its member names.

    Every format carries the samples (``Samples/``) and the metadata
    (``kit.json``, ``kit.csv``); sfz and dspreset add the kit's instrument and,
    for each melodic one-shot, one across the keyboard (``Instruments/``). adg
    lays the zip out as a piece of Live's User Library: the rack under
    ``Presets/Instruments/Drum Rack/``, the samples under
    ``Samples/Imported/SampleMind/<kit>/``, where the rack looks for them.
    """
    if fmt not in EXPORT_FORMATS:
        raise ProductError(f"Export as one of {', '.join(EXPORT_FORMATS)}.")
    stem = exports.safe_name(kit.name)
    folder = f"{exports.ABLETON_SAMPLES}/{stem}" if fmt == "adg" else "Samples"
    entries = pad_entries(pads, folder)
    files: dict[str, str | bytes] = {"kit.json": exports.metadata_json(kit.name, entries)}
    files["kit.csv"] = exports.metadata_csv(entries)
    if fmt == "sfz":
        files[f"{stem}.sfz"] = exports.sfz_kit(kit.name, entries)
        for entry in entries:
            if entry.melodic:
                files[f"Instruments/{entry.instrument_name}.sfz"] = exports.sfz_instrument(entry)
    elif fmt == "dspreset":
        files[f"{stem}.dspreset"] = exports.dspreset_kit(entries)
        for entry in entries:
            if entry.melodic:
                name = f"Instruments/{entry.instrument_name}.dspreset"
                files[name] = exports.dspreset_instrument(entry)
    elif fmt == "adg":
        audio = [_stored_audio(pad.sample) for pad in pads]
        rack = exports.ableton_drum_rack(kit.name, entries, audio, exports.drum_rack_template())
        files[f"{exports.ABLETON_PRESETS}/{stem}.adg"] = rack
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(f"{stem}/{name}", content)
        for pad, entry in zip(pads, entries, strict=True):
            with pad.sample.file.open("rb") as source:
                with bundle.open(f"{stem}/{entry.path}", "w") as target:
                    while chunk := source.read(1024 * 1024):
                        target.write(chunk)
        return bundle.namelist()


def _stored_audio(sample) -> exports.StoredAudio:
    rate = sample.sample_rate or 44100
    return exports.StoredAudio(
        size=sample.file.size,  # the very bytes the zip carries
        frames=round((sample.duration or 0) * rate),
        sample_rate=rate,
        modified=int(sample.updated_at.timestamp()),
    )
