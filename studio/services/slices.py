"""Loop slicing: a loop cut at its onsets, each slice a sample of its own linked to the loop."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import soundfile as sf
from django.db import transaction

from accounts.models import User
from library import analysis as analyser
from library.models import Sample, SampleStatus
from library.services.analysis import local_copy
from library.services.uploads import (
    SampleFields,
    Spooled,
    _check_quotas,
    file_digest,
    sample_create,
)
from samplemind.errors import Duplicate, NotAllowed, ProductError
from studio.errors import NotAnalysed
from studio.models import Slice
from studio.slicing import cut, onset_points

MAX_SLICES = 64
MAX_LOOP_SECONDS = 120


def _loop_audio(loop: Sample):
    if loop.status != SampleStatus.READY:
        raise NotAnalysed("This loop is not analysed yet.")
    if not loop.is_loop:
        raise ProductError("Only loops are sliced; mark it as a loop first.")
    if (loop.duration or 0) > MAX_LOOP_SECONDS:
        raise ProductError(f"Only loops up to {MAX_LOOP_SECONDS} s long are sliced.")
    with local_copy(loop.file) as path:
        return analyser.decode_audio(path, levels_max_seconds=0)


def loop_slice_points(*, loop: Sample) -> list[float]:
    """Where the loop would be cut (seconds): the preview a producer moves or removes."""
    audio = _loop_audio(loop)
    return onset_points(audio.samples, audio.sample_rate)


def loop_slice(*, owner: User, loop: Sample, points: list[float] | None = None) -> list[Slice]:
    """Cut the owner's loop at ``points`` (default: its onsets) into new samples.

    Each slice is stored like an upload (quotas, duplicates, analysis queued)
    and linked to its loop; a slice whose sound is already in the library
    links to that sample. Slicing a loop again replaces its links.
    """
    if loop.owner_id != owner.pk:
        raise NotAllowed("Only the loop's owner can slice it.")
    audio = _loop_audio(loop)
    points = onset_points(audio.samples, audio.sample_rate) if points is None else points
    pieces = cut(audio.channels_data, audio.sample_rate, points)
    if not pieces:
        raise ProductError("No cut points inside the loop.", details={"points": ["empty"]})
    if len(pieces) > MAX_SLICES:
        raise ProductError(f"At most {MAX_SLICES} slices.", details={"points": ["too many"]})
    folder = Path(tempfile.mkdtemp(prefix="samplemind-slices-"))
    try:
        spooled = []
        for index, (_start, _end, piece) in enumerate(pieces):
            path = folder / f"{index:03d}.wav"
            sf.write(str(path), piece, audio.sample_rate, subtype="PCM_24")
            name = f"{loop.name} slice {index + 1:02d}.wav"
            spooled.append(
                Spooled(name=name, path=path, sha256=file_digest(path), size=path.stat().st_size)
            )
        with transaction.atomic():
            _check_quotas(owner, files=len(spooled), size=sum(s.size for s in spooled))
            Slice.objects.filter(loop=loop).delete()
            links = []
            for index, ((start, end, _piece), file) in enumerate(zip(pieces, spooled, strict=True)):
                sample = _slice_sample(owner, loop, file)
                links.append(Slice(loop=loop, sample=sample, index=index, start=start, end=end))
            return Slice.objects.bulk_create(links)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _slice_sample(owner: User, loop: Sample, file: Spooled) -> Sample:
    fields = SampleFields(
        name=Path(file.name).stem, tags=[*loop.tags, "slice"], visibility=loop.visibility
    )
    # Hits of one loop sound alike by design: keep them even where the library's
    # near-duplicate check would refuse an upload.
    fields.keep_duplicate = True
    try:
        return sample_create(owner=owner, spooled=file, fields=fields, enforce_quotas=False)
    except Duplicate as exc:
        return Sample.objects.get(owner=owner, pk=exc.details["sample_id"])
