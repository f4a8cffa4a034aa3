"""The analyser's contract constants, in a module of their own.

The package re-exports them; its modules import them from here, so none of
them imports the package that imports it.
"""

ANALYZER_VERSION = "2.2.0"
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
