"""Small waveform drawings for list rows and cards, from a sample's stored peaks.

Drawn on the server as an SVG path, so a page of samples shows its waveforms
without JavaScript, extra requests or inline styles (the CSP forbids them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

# The drawing's coordinate box; CSS scales it to the row or card.
WIDTH = 120
HEIGHT = 24
BARS = 60


def waveform_path(peaks: Sequence[float] | None, *, bars: int = BARS) -> str:
    """An SVG path of ``bars`` vertical strokes centred on the midline, or "" without peaks.

    ``peaks`` are 0..1 (the analysis stores 800 of them); each bar shows the
    loudest peak of its slice, so short hits stay visible when shrunk. Computed
    with numpy and written to a tenth of a unit: a page draws a hundred of them.
    """
    if not peaks:
        return ""
    levels = np.clip(np.asarray(peaks, dtype=np.float64), 0.0, 1.0)
    count = len(levels)
    bars = min(bars, count)
    starts = (np.arange(bars) * count) // bars
    loudest = np.maximum.reduceat(levels, starts)
    step = WIDTH / bars
    middle = HEIGHT / 2
    # A floor of half a unit keeps silence drawn as a line rather than nothing.
    half = np.maximum(loudest * middle, 0.5)
    xs = np.round(np.arange(bars) * step + step / 2, 2).tolist()
    tops = np.round(middle - half, 1).tolist()
    bottoms = np.round(middle + half, 1).tolist()
    return "".join(f"M{x:g} {t:g}V{b:g}" for x, t, b in zip(xs, tops, bottoms, strict=True))


def attach_waveforms(samples: Iterable) -> None:
    """Set ``wave_path`` on each sample, for the ``library/_waveform.html`` include.

    Samples loaded without their peaks (search hits leave them deferred) get
    them in one query rather than one each.
    """
    from library.models import Sample

    samples = list(samples)
    missing = [s.pk for s in samples if "waveform" in s.get_deferred_fields()]
    if missing:
        peaks = dict(Sample.objects.filter(pk__in=missing).values_list("pk", "waveform"))
        for sample in samples:
            if sample.pk in peaks:
                sample.waveform = peaks[sample.pk]
    for sample in samples:
        sample.wave_path = waveform_path(sample.waveform)
