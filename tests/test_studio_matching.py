"""How a sound meets the project's tempo and key (pure rules, no audio)."""

from __future__ import annotations

import pytest

from studio.matching import Source, key_shift, plan_render, tempo_ratio


def source(**fields) -> Source:
    base = {"is_loop": False, "bpm": None, "key": None, "mode": None, "root_note": None}
    return Source(**{**base, "category": "synth", **fields})


def test_a_loop_is_stretched_by_the_ratio_of_tempos():
    plan = plan_render(
        source(is_loop=True, bpm=100, category="drum_loop"), bpm=120, key=None, mode=None
    )

    assert plan.tempo_ratio == pytest.approx(1.2)
    assert plan.semitones == 0


@pytest.mark.parametrize(("loop_bpm", "target", "ratio"), [(70, 140, 1.0), (170, 86, 86 / 85)])
def test_half_and_double_time_count_as_the_same_tempo(loop_bpm, target, ratio):
    assert tempo_ratio(loop_bpm, target) == pytest.approx(ratio)


def test_one_shots_keep_their_length():
    plan = plan_render(source(key="A", root_note="A3"), bpm=140, key="A", mode="major")

    assert plan.tempo_ratio == 1.0 and plan.is_identity


@pytest.mark.parametrize(
    ("pitch", "mode", "target", "target_mode", "shift"),
    [
        ("A", None, "C", "major", 3),  # a one-shot's root goes to the tonic
        ("C", "major", "A", "minor", 0),  # the relative major shares the notes
        ("A", "minor", "C", "minor", 3),
        ("C", "major", "G", "major", -5),  # down rather than seven up
        ("C", "major", "F#", "major", 6),  # never more than six
    ],
)
def test_tonal_sounds_go_to_the_nearest_compatible_key(pitch, mode, target, target_mode, shift):
    assert key_shift(pitch, mode, target, target_mode) == shift


def test_drums_keep_their_pitch_unless_asked():
    kick = source(key="A", root_note="A1", category="kick")

    assert plan_render(kick, bpm=None, key="C", mode="major").semitones == 0
    assert plan_render(kick, bpm=None, key="C", mode="major", pitch_drums=True).semitones == 3


def test_the_root_note_stands_in_for_a_missing_key():
    plan = plan_render(source(root_note="G#2"), bpm=None, key="A", mode="minor")

    assert plan.semitones == 1
