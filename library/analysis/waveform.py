"""Waveform peaks gathered while a file streams past, in bounded memory.

The meter keeps one maximum per ``hop`` frames. The hop is chosen from the
expected length so that a whole file (up to the longest one accepted) fits in
a few thousand numbers; when a file turns out longer than its header said,
neighbouring values are merged pairwise so the envelope never grows past
``MAX_VALUES``. ``preview.waveform_peaks`` reduces it to the points drawn.
"""

from __future__ import annotations

import numpy as np

# Fine values per drawn point (800 by default): enough that bucket edges land
# within an eighth of a bucket of where they should.
RESOLUTION = 8 * 800
MAX_VALUES = 8 * RESOLUTION


class PeakMeter:
    """Accumulates the absolute peak of every ``hop`` frames of ``(frames, channels)`` blocks."""

    def __init__(self, expected_frames: int, resolution: int = RESOLUTION) -> None:
        self.hop = max(1, int(expected_frames) // max(1, resolution))
        self._chunks: list[np.ndarray] = []
        self._count = 0
        self._rest = np.zeros(0, dtype=np.float32)

    def feed(self, block: np.ndarray) -> None:
        if block.ndim == 2:
            block = np.abs(block).max(axis=1)
        else:
            block = np.abs(block)
        if self._rest.size:
            block = np.concatenate([self._rest, block])
        whole = block.size // self.hop * self.hop
        if whole:
            self._chunks.append(block[:whole].reshape(-1, self.hop).max(axis=1))
            self._count += whole // self.hop
        # A copy, so the caller's block can be freed.
        self._rest = np.array(block[whole:], dtype=np.float32)
        if self._count > MAX_VALUES:
            self._coarsen()

    def _coarsen(self) -> None:
        values = np.concatenate(self._chunks)
        if values.size % 2:
            # The odd last value covers a full hop; keep it as the partial rest's peak.
            self._rest = np.concatenate(
                [np.full(self.hop, values[-1], dtype=np.float32), self._rest]
            )
            values = values[:-1]
        self._chunks = [values.reshape(-1, 2).max(axis=1)]
        self._count = self._chunks[0].size
        self.hop *= 2

    def result(self) -> np.ndarray:
        """The envelope: one peak per ``hop`` frames, the last one possibly shorter."""
        parts = list(self._chunks)
        if self._rest.size:
            parts.append(np.array([self._rest.max()], dtype=np.float32))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
