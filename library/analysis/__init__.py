"""The audio analyser: pure functions from a file or an array to descriptors.

No Django imports here. The contract other code relies on:

- ``ANALYZER_VERSION``: a string, bumped whenever results change.
- ``EMBEDDING_DIM``: the length of the timbre embedding (the database column's size).
- ``CATEGORIES``: the category vocabulary.
- ``AudioDecodeError``: raised, with a message a person can read, for anything
  that cannot be decoded as audio (corrupt, truncated, empty, not audio).
- ``analyze_file(path, *, filename=None, embedding=True) -> dict``: every
  descriptor (see ``descriptors.py``), JSON-serialisable, floats finite or None.
- ``decode_audio(path) -> Audio``, ``waveform_peaks(audio, points) -> list[float]``,
  ``write_preview(audio, path)``: decoding once and reusing it for the preview.
"""

ANALYZER_VERSION = "0.0.0"
EMBEDDING_DIM = 64
CATEGORIES = (
    "kick",
    "snare",
    "clap",
    "hihat",
    "cymbal",
    "tom",
    "percussion",
    "bass",
    "synth",
    "keys",
    "pad",
    "vocal",
    "fx",
    "drum_loop",
    "music_loop",
    "other",
)
