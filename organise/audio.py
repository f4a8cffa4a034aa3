"""Reading a file into a fingerprint (decoding is the analyser's, by content)."""

from __future__ import annotations

from pathlib import Path

from library.analysis import decode_audio
from organise import fingerprint as fp

# The fingerprint's seconds, and half a second of silence before the sound.
DECODE_SECONDS = fp.MAX_SECONDS + 0.5


def fingerprint_file(path: str | Path) -> fp.Fingerprint:
    """Decode the start of ``path`` and fingerprint it; raises ``AudioDecodeError``."""
    audio = decode_audio(path, max_seconds=DECODE_SECONDS, levels_max_seconds=0)
    return fp.fingerprint(audio.samples, audio.sample_rate)
