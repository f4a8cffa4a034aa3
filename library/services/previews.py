"""Browser previews made on first play, for the short files analysis leaves without one.

The worker encodes previews of long files only (``analysis.preview_deferred``):
for a one-shot, encoding costs about as much as the whole analysis, and most
one-shots of a large import are never played. The first play of such a
sample makes its preview here (tens of milliseconds for a few seconds of
audio) and stores it like the worker would; later plays get the stored file.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from django.core.files import File
from django.db import transaction

from library import analysis as analyser
from library.analysis.preview import PREVIEW_MAX_SECONDS
from library.models import Sample, SampleStatus
from library.services.analysis import local_copy

logger = logging.getLogger(__name__)


def sample_preview_ensure(*, sample: Sample) -> Sample:
    """``sample`` with its preview, encoding one now when the analysis left it to the first play.

    Unchanged when it has a preview, or is not analysed yet (the worker may
    still make one), or its original cannot be read (the caller answers as for
    a missing preview). Two first plays at once encode once: the second waits
    for the first's row lock, then finds the preview.
    """
    if sample.preview or sample.status != SampleStatus.READY:
        return sample
    written: list[str] = []
    try:
        with transaction.atomic():
            locked = Sample.objects.select_for_update(no_key=True).filter(pk=sample.pk).first()
            if locked is None or locked.status != SampleStatus.READY:
                return sample
            if not locked.preview:
                if not _encode(locked):
                    return sample
                written.append(locked.preview.name)
                Sample.objects.filter(pk=locked.pk).update(preview=locked.preview.name)
    except BaseException:
        # The row was rolled back: nothing names the file just stored.
        for name in written:
            locked.preview.storage.delete(name)
        raise
    sample.preview = locked.preview.name
    return sample


def _encode(sample: Sample) -> bool:
    """Store an encoded preview of ``sample`` (not its row); False if the original is unreadable."""
    folder = Path(tempfile.mkdtemp(prefix="samplemind-preview-"))
    try:
        target = folder / "preview.ogg"
        with local_copy(sample.file) as path:
            audio = analyser.decode_audio(
                path, max_seconds=PREVIEW_MAX_SECONDS, levels_max_seconds=0
            )
        analyser.write_preview(audio, target)
        with open(target, "rb") as handle:
            sample.preview.save(f"{sample.pk.hex}.ogg", File(handle), save=False)
    except (analyser.AudioDecodeError, OSError):
        logger.warning("no preview made for %s", sample.pk, exc_info=True)
        return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return True
