"""The trained category classifier, the file name's evidence, and who gets a tempo.

Examples are rendered here with fluidsynth from Debian's small TimGM6mb
soundfont, spoken by espeak-ng (`make test` installs all three) and
synthesised with ``tests.audio``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from library.analysis import CATEGORIES, analyze_file, category
from library.analysis.training import loops
from library.analysis.training.midi import DRUM_CHANNEL, Note, Program
from library.analysis.training.render import SR, fluidsynth, trim_tail
from tests import audio

SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"

# Three rendered examples a class: (GM program, or a drum kit as ("kit", n)), note, seconds held.
EXAMPLES = {
    "kick": [(("kit", 0), 36, 0.2), (("kit", 25), 36, 0.2), (("kit", 16), 35, 0.2)],
    "snare": [(("kit", 0), 38, 0.2), (("kit", 25), 40, 0.2), (("kit", 40), 38, 0.2)],
    "clap": [(("kit", 0), 39, 0.2), (("kit", 25), 39, 0.2), (("kit", 24), 39, 0.2)],
    "hihat": [(("kit", 0), 42, 0.2), (("kit", 25), 46, 0.2), (("kit", 8), 44, 0.2)],
    "cymbal": [(("kit", 0), 49, 0.2), (("kit", 0), 51, 0.2), (("kit", 0), 57, 0.2)],
    "tom": [(("kit", 0), 45, 0.2), (("kit", 25), 41, 0.2), (("kit", 16), 48, 0.2)],
    "percussion": [(("kit", 0), 63, 0.2), (("kit", 0), 56, 0.2), (("kit", 0), 75, 0.2)],
    "bass": [(33, 36, 0.8), (38, 40, 0.6), (34, 33, 1.0)],
    "synth": [(80, 64, 0.8), (81, 64, 0.8), (87, 60, 0.5)],
    "keys": [(0, 60, 1.2), (4, 55, 1.2), (16, 62, 1.0)],
    "pad": [(89, 60, 4.0), (88, 57, 4.0), (48, 60, 4.0)],
    "fx": [(125, 60, 2.5), (122, 60, 2.5), (127, 60, 1.0)],
    "other": [(25, 55, 1.2), (56, 60, 1.2), (73, 72, 1.2)],
}


def _render(program: int | tuple[str, int], note: int, seconds: float) -> np.ndarray:
    drums = isinstance(program, tuple)
    channel = DRUM_CHANNEL if drums else 0
    programs = [Program(0.0, channel, 0, program[1] if drums else program)]
    rendered = fluidsynth(SOUNDFONT, [Note(0.05, seconds, note, 110, channel)], programs)
    return trim_tail(rendered[int(0.05 * SR) :])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rendered")
    paths = {}
    for name, examples in EXAMPLES.items():
        for i, (program, note, seconds) in enumerate(examples):
            path = folder / f"{name}{i}.wav"
            paths[f"{name}{i}"] = audio.write(path, _render(program, note, seconds), sr=SR)
    # A voice: espeak-ng speaking, as a vocal chop would.
    subprocess.run(
        ["espeak-ng", "-v", "en+f3", "-w", str(folder / "vocal.wav"), "yeah, come on"],
        check=True,
        capture_output=True,
    )
    paths["vocal0"] = folder / "vocal.wav"
    rng = np.random.default_rng(5)
    drums = loops.drum_part(rng, "house", 124.0, 2, 0.0)
    x = fluidsynth(SOUNDFONT, drums, [Program(0.0, DRUM_CHANNEL, 0, 0)])
    paths["drum_loop0"] = audio.write(folder / "drum_loop.wav", x[: int(2 * 4 * 60 / 124 * SR)], SR)
    music = loops.music_part(rng, 9, "minor", 100.0, 2, 0.0)
    programs = [Program(0.0, 0, 0, 4), Program(0.0, 1, 0, 38), Program(0.0, 2, 0, 81)]
    x = fluidsynth(SOUNDFONT, music, programs)
    paths["music_loop0"] = audio.write(
        folder / "music_loop.wav", x[: int(2 * 4 * 60 / 100 * SR)], SR
    )
    return paths


def test_the_committed_model_is_small_and_knows_every_category():
    assert category.MODEL_PATH.stat().st_size <= 5 * 1024 * 1024
    model = category.Model.load()
    assert model.classes == list(CATEGORIES)
    assert model.name_odds > 1


@pytest.mark.parametrize("expected", CATEGORIES)
def test_rendered_examples_of_every_class_are_recognised(rendered, expected: str):
    results = [
        analyze_file(p, filename="untitled.wav") for k, p in rendered.items() if k[:-1] == expected
    ]
    assert results
    right = [r["category"] == expected for r in results]
    # Most examples read right, and the model has the class in its top three for every one.
    assert sum(right) * 3 >= len(right) * 2, [r["category_top"] for r in results]
    for result in results:
        top = [name for name, _ in result["category_top"]]
        assert len(top) == 3 and expected in top, result["category_top"]
        assert sum(result["category_probabilities"].values()) == pytest.approx(1.0, abs=1e-3)
        if result["category"] == expected:
            assert result["is_loop"] is (expected in ("drum_loop", "music_loop"))


def test_a_clear_name_settles_a_sound_the_audio_leaves_open(tmp_path: Path):
    # A snare layered with a clap: the audio alone cannot say which it is.
    layered = audio.snare() + audio.clap()[: audio.snare().size]
    path = audio.write(tmp_path / "layer.wav", layered)
    neutral = analyze_file(path, filename="hit_03.wav")
    assert neutral["category_confidence"] < 0.9
    assert {name for name, _ in neutral["category_top"][:2]} == {"snare", "clap"}
    assert analyze_file(path, filename="Clap_03.wav")["category"] == "clap"
    assert analyze_file(path, filename="Snare_03.wav")["category"] == "snare"


def test_a_misleading_name_does_not_flip_a_clear_reading(rendered):
    kick = analyze_file(rendered["kick0"], filename="untitled.wav")
    assert kick["category"] == "kick" and kick["category_confidence"] > 0.9
    assert analyze_file(rendered["kick0"], filename="tom-0105.wav")["category"] == "kick"


def test_sustained_sounds_get_no_tempo_and_are_one_shots(rendered, tmp_path: Path):
    pad = audio.write(tmp_path / "warm_pad.wav", audio.pad(57, minor=True, seconds=6.0))
    for path in (pad, rendered["pad0"], rendered["vocal0"]):
        result = analyze_file(path)
        assert result["bpm"] is None and result["is_loop"] is False, result["category"]


def test_tonal_one_shots_carry_their_root_note(rendered):
    assert analyze_file(rendered["bass0"])["root_note"] == "C2"
    assert analyze_file(rendered["keys0"])["root_note"] == "C4"
    assert analyze_file(rendered["kick0"])["root_note"] is None
