"""Small waveform drawings for list rows and cards, from a sample's stored peaks.

Drawn on the server as an SVG path, so a page of samples shows its waveforms
without JavaScript, extra requests or inline styles (the CSP forbids them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# The drawing's coordinate box; CSS scales it to the row or card.
WIDTH = 120
HEIGHT = 24
BARS = 60


def waveform_path(peaks: Sequence[float] | None, *, bars: int = BARS) -> str:
    """An SVG path of ``bars`` vertical strokes centred on the midline, or "" without peaks.

    ``peaks`` are 0..1 (the analysis stores 800 of them); each bar shows the
    loudest peak of its slice, so short hits stay visible when shrunk.
    """
    if not peaks:
        return ""
    count = len(peaks)
    bars = min(bars, count)
    step = WIDTH / bars
    middle = HEIGHT / 2
    strokes = []
    for index in range(bars):
        start = index * count // bars
        end = max((index + 1) * count // bars, start + 1)
        level = max(0.0, min(1.0, float(max(peaks[start:end]))))
        # A floor of half a unit keeps silence drawn as a line rather than nothing.
        half = max(level * middle, 0.5)
        x = round(index * step + step / 2, 2)
        strokes.append(f"M{x} {round(middle - half, 2)}V{round(middle + half, 2)}")
    return "".join(strokes)


def attach_waveforms(samples: Iterable) -> None:
    """Set ``wave_path`` on each sample, for the ``library/_waveform.html`` include."""
    for sample in samples:
        sample.wave_path = waveform_path(sample.waveform)
