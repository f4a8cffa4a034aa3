"""General MIDI numbers to SampleMind categories: the labels of rendered training data.

Drum notes follow the GM percussion map (channel 10); melodic programs follow
the GM program families. Instruments a producer's library has no word for
(guitars, brass, reeds, flutes, solo strings, ethnic instruments) are
"other". Programs whose sound does not fit one category (orchestra hit,
timpani, seashore...) are left out rather than guessed.
"""

from __future__ import annotations

DRUM_NOTES: dict[int, str] = {
    35: "kick",
    36: "kick",
    37: "percussion",  # side stick
    38: "snare",
    39: "clap",
    40: "snare",
    41: "tom",
    42: "hihat",
    43: "tom",
    44: "hihat",
    45: "tom",
    46: "hihat",
    47: "tom",
    48: "tom",
    49: "cymbal",
    50: "tom",
    51: "cymbal",
    52: "cymbal",
    53: "cymbal",
    54: "percussion",  # tambourine
    55: "cymbal",
    56: "percussion",  # cowbell
    57: "cymbal",
    58: "percussion",  # vibraslap
    59: "cymbal",
    **dict.fromkeys(range(60, 71), "percussion"),  # bongos, congas, timbales, agogo, cabasa...
    **dict.fromkeys(range(73, 82), "percussion"),  # guiro, claves, wood blocks, cuica, triangle
}

# GM kits present in most soundfonts: standard, room, power, electronic, TR-808, jazz, brush.
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40)

_FAMILIES: list[tuple[range, str | None]] = [
    (range(0, 8), "keys"),  # pianos
    (range(8, 16), "keys"),  # chromatic percussion: celesta, vibraphone, marimba...
    (range(16, 24), "keys"),  # organs, accordion, harmonica
    (range(24, 32), "other"),  # guitars
    (range(32, 40), "bass"),
    (range(40, 47), "other"),  # solo strings, harp
    (range(47, 48), None),  # timpani
    (range(48, 52), "pad"),  # string ensembles, synth strings
    (range(52, 55), "vocal"),  # choir aahs, voice oohs, synth voice
    (range(55, 56), None),  # orchestra hit
    (range(56, 63), "other"),  # brass
    (range(63, 64), "synth"),  # synth brass 2
    (range(64, 80), "other"),  # reeds and pipes
    (range(80, 88), "synth"),  # leads
    (range(88, 96), "pad"),
    (range(96, 104), None),  # synth effects: decided one by one below
    (range(104, 112), "other"),  # ethnic
    (range(112, 120), None),  # percussive: one by one below
    (range(120, 128), "fx"),  # fret noise, breath, seashore, birds, phone, helicopter...
]
_SINGLE = {
    62: "synth",  # synth brass 1
    96: "fx",  # rain
    97: "pad",  # soundtrack
    98: "synth",  # crystal
    99: "pad",  # atmosphere
    100: "pad",  # brightness
    101: "fx",  # goblins
    102: "pad",  # echoes
    103: "fx",  # sci-fi
    112: "percussion",  # tinkle bell
    113: "percussion",  # agogo
    114: "keys",  # steel drums
    115: "percussion",  # woodblock
    116: "tom",  # taiko
    117: "tom",  # melodic tom
    118: "tom",  # synth drum
    119: "fx",  # reverse cymbal
}


def program_category(program: int) -> str | None:
    """The category of GM ``program`` (0-127), or None when it is left out."""
    if program in _SINGLE:
        return _SINGLE[program]
    for numbers, category in _FAMILIES:
        if program in numbers:
            return category
    return None
