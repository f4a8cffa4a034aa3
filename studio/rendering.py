"""Rendering a sample through a plan with Rubber Band (Debian's ``rubberband-cli``).

The R3 ("fine") engine is the library's highest quality; vocals keep their
formants when shifted. No Django imports.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyrubberband
import soundfile as sf

from library.analysis import decode_audio
from studio.matching import Plan

FORMATS = {"wav": ("WAV", "PCM_24"), "flac": ("FLAC", "PCM_24")}
CONTENT_TYPES = {"wav": "audio/wav", "flac": "audio/flac"}


def process(audio: np.ndarray, sample_rate: int, plan: Plan, *, formants: bool = False):
    """``audio`` (frames, channels) stretched and shifted as ``plan`` says."""
    if plan.is_identity:
        return audio
    options = {"--fine": ""}
    if formants:
        options["--formant"] = ""
    if plan.semitones:
        options["--tempo"] = plan.tempo_ratio
        return pyrubberband.pitch_shift(audio, sample_rate, plan.semitones, rbargs=options)
    return pyrubberband.time_stretch(audio, sample_rate, plan.tempo_ratio, rbargs=options)


def render_file(
    source: str | os.PathLike, target: Path, plan: Plan, *, fmt: str, formants: bool = False
) -> float:
    """Write ``source`` rendered through ``plan`` to ``target`` as ``fmt``; its duration (s)."""
    audio = decode_audio(source, levels_max_seconds=0)
    out = process(audio.channels_data, audio.sample_rate, plan, formants=formants)
    out = np.clip(out, -1.0, 1.0)
    container, subtype = FORMATS[fmt]
    sf.write(str(target), out, audio.sample_rate, format=container, subtype=subtype)
    return out.shape[0] / audio.sample_rate
