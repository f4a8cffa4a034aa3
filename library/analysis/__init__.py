"""The audio analyser: pure functions from a file or an array to descriptors.

No Django imports here. The contract other code relies on:

- ``ANALYZER_VERSION``: a string, bumped whenever results change.
- ``EMBEDDING_DIM``: the length of the timbre embedding (the database column's size).
- ``CATEGORIES``: the category vocabulary.
- ``AudioDecodeError``: raised, with a message a person can read, for anything
  that cannot be decoded as audio (corrupt, truncated, empty, not audio).
- ``analyze_file(path, *, filename=None, embedding=True) -> dict``: every
  descriptor (see ``descriptors.py``), JSON-serialisable, floats finite or None.
- ``analyze_audio(audio, *, filename=None, embedding=True) -> dict``: the same
  for an already decoded ``Audio``.
- ``decode_audio(path, *, max_seconds=None, levels_max_seconds=..., peaks=False)
  -> Audio``, ``waveform_peaks(audio, points) -> list[float]``,
  ``write_preview(audio, path)``: decoding once, in bounded memory, and reusing
  it for the preview and the whole-file waveform.

Modules: ``decode`` (by content, bounded), ``loudness`` (BS.1770), ``spectral``
(the one STFT and its descriptors), ``rhythm`` (onsets, tempo), ``tonal`` (key,
pitch), ``envelope`` (attack, decay), ``classify`` (loop, category),
``embedding`` (timbre vector), ``waveform`` (streamed peak envelope),
``preview`` (Ogg preview, peaks) and
``descriptors`` (the pipeline).
"""

from library.analysis.constants import ANALYZER_VERSION, CATEGORIES, EMBEDDING_DIM
from library.analysis.decode import Audio, AudioDecodeError, decode_audio
from library.analysis.descriptors import analyze_audio, analyze_file
from library.analysis.preview import waveform_peaks, write_preview

__all__ = [
    "ANALYZER_VERSION",
    "CATEGORIES",
    "EMBEDDING_DIM",
    "Audio",
    "AudioDecodeError",
    "analyze_audio",
    "analyze_file",
    "decode_audio",
    "waveform_peaks",
    "write_preview",
]
