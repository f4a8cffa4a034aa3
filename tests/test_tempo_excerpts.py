"""Tempo of drum loops that were not cut at their bar lines (slices, sloppy exports).

Read circularly, such a file has a seam where its end meets its start; these
cases were given the wrong tempo, or none, before the analyser also read
files that fit no whole number of bars as straight excerpts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from library.analysis import analyze_file
from tests import audio


@pytest.mark.parametrize(
    ("bpm", "start_beats", "end_beats"),
    [(124, 0.08, 0.83), (140, 0.63, 0.93), (160, 0.76, 0.5), (160, 0.53, 0.79)],
)
def test_tempo_of_a_loop_cut_off_its_bar_lines(tmp_path: Path, bpm, start_beats, end_beats):
    beat = int(audio.SR * 60 / bpm)
    loop = audio.drum_loop(bpm, bars=1)
    excerpt = loop[int(start_beats * beat) : loop.size - int(end_beats * beat)]
    result = analyze_file(audio.write(tmp_path / "excerpt.wav", excerpt))
    assert result["bpm"] is not None, result
    assert result["bpm"] == pytest.approx(bpm, rel=0.04)
