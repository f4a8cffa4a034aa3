"""Loop -> MIDI: a bass or lead loop's notes as a Standard MIDI File, kept in the cache.

Transcription takes tens of milliseconds per second of audio (studio.midi), so a
loop of at most ``MAX_SOURCE_SECONDS`` is transcribed inside the request and the
file kept in the cache (Redis) for the next one; nothing is stored or counted
against storage. The cache key names the model, the sample's file and what the
producer may correct (tempo, category), so a correction gives a new file.
"""

from __future__ import annotations

import zlib

from django.core.cache import cache

from library.models import Sample
from library.services.analysis import local_copy
from studio import midi
from studio.selectors import midi_refusal

CACHE_SECONDS = 7 * 24 * 3600
# General MIDI programs the file suggests: fingered bass for bass loops, a saw lead otherwise.
PROGRAMS = {"bass": 33}
LEAD_PROGRAM = 81


def loop_midi(*, sample: Sample, any_loop: bool = False) -> bytes:
    """The ``.mid`` of ``sample``'s notes, one at a time, at its tempo.

    Raises the ``ProductError`` that :func:`studio.selectors.midi_refusal` names
    for a sample that is not an analysed melodic loop (``any_loop`` lets through
    loops of other tonal categories), and ``FileNotFoundError`` /
    ``AudioDecodeError`` when the stored file is gone or unreadable.
    """
    refusal = midi_refusal(sample=sample, any_loop=any_loop)
    if refusal is not None:
        raise refusal
    kind = "bass" if sample.category == "bass" else "lead"
    settings = midi.SETTINGS[kind]
    key = ":".join(
        [
            "studio:midi",
            midi.MODEL_VERSION,
            str(zlib.crc32(repr(settings).encode())),
            str(sample.pk),
            sample.file.name,
            f"{sample.bpm or 0:.2f}",
            kind,
        ]
    )
    data = cache.get(key)
    if data is None:
        with local_copy(sample.file) as path:
            notes = midi.transcribe_file(path, settings)
        data = midi.midi_bytes(notes, bpm=sample.bpm, program=PROGRAMS.get(kind, LEAD_PROGRAM))
        cache.set(key, data, CACHE_SECONDS)
    return data
