"""Shared by the studio tests: real samples, stored and analysed by the real analyser."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from library.models import Sample
from library.services.analysis import sample_analyze
from library.services.uploads import SampleFields, Spooled, file_digest, sample_create
from tests import audio


def analysed_sample(owner, path: Path, **fields) -> Sample:
    """Store ``path`` as ``owner``'s sample and analyse it now, as the worker would."""
    spooled = Spooled(name=path.name, path=path, sha256=file_digest(path), size=path.stat().st_size)
    sample = sample_create(owner=owner, spooled=spooled, fields=SampleFields(**fields))
    assert sample_analyze(sample_id=str(sample.pk)) == "ready"
    sample.refresh_from_db()
    return sample


def keys_note(midi: int, seconds: float = 1.5) -> np.ndarray:
    """A plucked, harmonic note (a keys one-shot) on MIDI note ``midi``."""
    t = np.arange(int(seconds * audio.SR)) / audio.SR
    f = audio.midi_hz(midi)
    note = sum(np.sin(2 * np.pi * f * h * t) / h for h in (1, 2, 3, 4))
    note = note * np.exp(-t * 2) * np.minimum(1, t / 0.005)
    return (0.6 * note / np.abs(note).max()).astype(np.float32)
