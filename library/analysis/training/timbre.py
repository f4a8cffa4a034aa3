"""The embedding's timbre scalars of every clean one-shot, for held-out neighbour figures.

``train.build``'s cached feature rows hold what the classifier reads, not the
16 timbre scalars the stored embedding adds (``embedding.timbre_scalars``).
``shot_scalars`` reads them from the same clips, in the same order as the
clean one-shot rows, and keeps them beside the feature cache, so that
``train.leave_one_source_out`` can measure neighbours in the vector the
analyser stores.
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import numpy as np

from library.analysis import descriptors, embedding, rhythm, spectral
from library.analysis.training import dataset


def _cache_path(features_path: Path) -> Path:
    code = inspect.getsource(descriptors.timbre_of) + inspect.getsource(embedding.timbre_scalars)
    code += inspect.getsource(clip_scalars) + features_path.name
    return features_path.with_name(f"timbre-{hashlib.sha256(code.encode()).hexdigest()[:12]}.npz")


def clip_scalars(audio: np.ndarray) -> np.ndarray | None:
    """The timbre scalars of a whole clip (mono at ``SR``), as the analyser reads them;
    None where ``dataset.clip_features`` gives no features either."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak < 1e-4 or audio.size < 256:
        return None
    y = np.ascontiguousarray(audio[: int(60 * spectral.SR)] / peak, dtype=np.float32)
    duration = audio.size / spectral.SR
    spec = spectral.compute_spectrum(y)
    env, _, periodicity, profile = descriptors.tonal_evidence(y, spec)
    flux = rhythm.onset_envelope(spec, circular=duration <= rhythm.LOOP_MAX_SECONDS)
    onsets = rhythm.onset_frames(flux, spec.fps)
    analysed = y.size / spectral.SR
    return descriptors.timbre_of(
        spec,
        spectral.spectral_descriptors(spec, y),
        spectral.noisiness(spec),
        profile,
        periodicity,
        env,
        duration,
        onsets.size / analysed,
    )


def shot_scalars(data: dict[str, np.ndarray], features_path: Path) -> np.ndarray:
    """``(rows, SCALARS)``: the timbre scalars of each clean one-shot row of ``data`` (the
    cache at ``features_path``), zeros elsewhere; made once and kept beside it."""
    path = _cache_path(features_path)
    if path.exists():
        with np.load(path) as cached:
            return cached["scalars"]
    out = np.zeros((data["y"].size, embedding.SCALARS))
    for s, name in enumerate(dataset.SOURCE_NAMES):
        rows = np.flatnonzero((data["source"] == s) & (data["variant"] == 0) & ~data["loop"])
        clips = [c for c in dataset.source_clips(name, features_path.parent) if not c.is_loop]
        found = [r for r in (clip_scalars(c.audio) for c in clips) if r is not None]
        if len(found) != rows.size:
            raise ValueError(f"{name}: {len(found)} one-shots for {rows.size} feature rows")
        out[rows] = np.array(found)
    np.savez_compressed(path, scalars=out)
    return out
