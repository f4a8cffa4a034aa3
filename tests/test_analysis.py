"""The audio analyser on synthesised material: decoding, levels, tempo, key, categories,
similarity, previews and the ``analyze_file`` command. No database needed."""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.management import CommandError, call_command

from library.analysis import (
    CATEGORIES,
    EMBEDDING_DIM,
    Audio,
    AudioDecodeError,
    analyze_audio,
    analyze_file,
    decode_audio,
    waveform_peaks,
    write_preview,
)
from library.analysis.loudness import k_weighting_sos, measure_levels
from library.analysis.rhythm import bpm_from_name
from library.analysis.tonal import key_from_name
from tests import audio

REQUIRED_KEYS = {
    "duration", "sample_rate", "channels", "bit_depth", "format", "peak_db", "rms_db",
    "loudness_lufs", "spectral_centroid", "spectral_rolloff", "spectral_flatness",
    "spectral_bandwidth", "zero_crossing_rate", "mfcc_mean", "mfcc_std", "onset_rate",
    "attack_time", "decay_time", "bpm", "bpm_confidence", "key", "mode", "key_confidence",
    "pitch_hz", "pitch_note", "is_loop", "category", "category_confidence", "embedding",
    "analyzer_version", "seconds",
}  # fmt: skip
NOTE_NAMES = audio.NOTE_NAMES


def assert_clean(result: dict) -> None:
    """Every number finite, the whole thing strict JSON."""
    json.dumps(result, allow_nan=False)

    def walk(value):
        if isinstance(value, float):
            assert math.isfinite(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(result)


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("analysis")


# -- decoding ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["wav", "aiff", "flac", "ogg", "mp3"])
def test_each_format_decodes_with_its_duration_rate_and_channels(folder: Path, fmt: str):
    stereo = np.stack([audio.tone(440, 1.5), audio.tone(660, 1.5)], axis=1)
    path = audio.write(folder / f"stereo.{fmt}", stereo)

    decoded = decode_audio(path)

    assert decoded.format == fmt
    assert decoded.sample_rate == audio.SR
    assert decoded.channels == 2
    assert decoded.channels_data.shape == (decoded.frames, 2)
    assert decoded.samples.ndim == 1
    assert decoded.duration == pytest.approx(1.5, abs=0.06)
    assert decoded.bit_depth == (16 if fmt in ("wav", "aiff", "flac") else None)


def test_format_is_sniffed_from_content_not_extension(folder: Path):
    flac = audio.write(folder / "real.flac", audio.tone())
    disguised = folder / "disguised.wav"
    disguised.write_bytes(flac.read_bytes())

    assert decode_audio(disguised).format == "flac"


def test_random_bytes_named_wav_are_refused(folder: Path):
    path = folder / "corrupt.wav"
    path.write_bytes(np.random.default_rng(0).bytes(50_000))

    with pytest.raises(AudioDecodeError, match="not audio we can read"):
        decode_audio(path)


def test_text_file_named_wav_is_refused(folder: Path):
    path = folder / "notes.wav"
    path.write_text("these are my notes, not a sample\n" * 20)

    with pytest.raises(AudioDecodeError, match="not audio we can read"):
        analyze_file(path)


def test_zero_length_file_is_refused(folder: Path):
    path = folder / "empty.wav"
    path.write_bytes(b"")

    with pytest.raises(AudioDecodeError, match="empty"):
        decode_audio(path)


@pytest.mark.parametrize("fmt", ["wav", "aiff", "flac", "mp3", "ogg"])
def test_a_file_cut_in_half_is_analysed_as_far_as_it_goes(folder: Path, fmt: str):
    whole = audio.write(folder / f"whole.{fmt}", audio.drum_loop(120, bars=2))  # 4 s
    cut = folder / f"cut.{fmt}"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])

    result = analyze_file(cut)

    # Compressed formats hold less than half the time in half the bytes.
    assert 1.0 < result["duration"] < 2.1
    assert result["analysed_seconds"] == pytest.approx(result["duration"], abs=0.01)
    assert result["peak_db"] is not None and result["category"] in CATEGORIES
    assert_clean(result)


@pytest.mark.parametrize("fmt", ["wav", "aiff", "flac", "mp3", "ogg"])
def test_a_file_cut_inside_its_header_is_refused_as_not_audio(folder: Path, fmt: str):
    whole = audio.write(folder / f"whole.{fmt}", audio.drum_loop(120, bars=2))
    cut = folder / f"head.{fmt}"
    cut.write_bytes(whole.read_bytes()[:30])

    with pytest.raises(AudioDecodeError, match="not audio we can read"):
        analyze_file(cut)


def test_missing_file_is_a_file_not_found_error(folder: Path):
    with pytest.raises(FileNotFoundError):
        decode_audio(folder / "nowhere.wav")


# -- edge cases through the whole analysis -------------------------------------------


def test_silent_file_has_no_tempo_key_or_level_and_only_finite_numbers(folder: Path):
    path = audio.write(folder / "silence.wav", np.zeros(audio.SR * 2, dtype=np.float32))

    result = analyze_file(path)

    assert_clean(result)
    assert REQUIRED_KEYS <= result.keys()
    assert result["bpm"] is None and result["key"] is None and result["mode"] is None
    assert result["peak_db"] is None and result["loudness_lufs"] is None
    assert result["category"] == "other"
    assert len(result["embedding"]) == EMBEDDING_DIM


def test_twenty_millisecond_file_is_analysed(folder: Path):
    path = audio.write(folder / "blip.wav", audio.tone(1000, 0.02, amp=0.8))

    result = analyze_file(path)

    assert_clean(result)
    assert result["duration"] == pytest.approx(0.02, abs=0.001)
    assert result["bpm"] is None and result["is_loop"] is False
    assert result["loudness_lufs"] is not None  # one short block, not "no loudness"
    assert result["category"] in CATEGORIES


def test_ten_minute_file_reports_its_true_length_and_whole_file_levels(folder: Path):
    loop = audio.drum_loop(120, bars=1)
    reps = int(math.ceil(600 * audio.SR / loop.size))
    long = np.tile(loop, reps)[: 600 * audio.SR] * 0.25
    long[-audio.SR * 60 :] *= 4.0  # a loud last minute, far beyond the analysed excerpt
    path = audio.write(folder / "ten_minutes.wav", long)

    result = analyze_file(path, embedding=False)

    assert result["duration"] == pytest.approx(600.0, abs=0.01)
    assert result["analysed_seconds"] <= 60.0
    head = measure_levels(long[: 60 * audio.SR], audio.SR)
    assert result["peak_db"] > head.peak_db + 10  # the whole file was measured
    assert result["loudness_lufs"] > head.loudness_lufs + 1
    assert result["bpm"] == pytest.approx(120, rel=0.04)


def test_decode_with_max_seconds_keeps_an_excerpt_and_the_whole_duration(folder: Path):
    path = audio.write(folder / "ninety.flac", np.tile(audio.tone(220, 1.0), 90))

    decoded = decode_audio(path, max_seconds=10)

    assert decoded.is_excerpt
    assert decoded.samples.size == 10 * audio.SR
    assert decoded.duration == pytest.approx(90.0, abs=0.01)
    assert decoded.file_levels is not None


# -- levels ------------------------------------------------------------------------


def test_k_weighting_matches_the_standard_at_48_khz():
    sos = k_weighting_sos(48000)
    np.testing.assert_allclose(
        sos[0], [1.53512485958697, -2.69169618940638, 1.19839281085285, 1, -1.69065929318241,
                 0.73248077421585], atol=1e-9)  # fmt: skip
    np.testing.assert_allclose(sos[1][4:], [-1.99004745483398, 0.99007225036621], atol=1e-9)


def test_full_scale_sine_measures_minus_three_lufs(folder: Path):
    sine = audio.tone(997, 5.0, sr=48000, amp=1.0)
    path = folder / "fullscale.wav"
    sf.write(path, sine, 48000, subtype="FLOAT")

    result = analyze_file(path)

    assert result["loudness_lufs"] == pytest.approx(-3.01, abs=0.5)
    assert result["peak_db"] == pytest.approx(0.0, abs=0.05)


def test_half_amplitude_sine_peaks_at_minus_six_db(folder: Path):
    path = folder / "half.wav"
    sf.write(path, audio.tone(440, 1.0, amp=0.5), audio.SR, subtype="FLOAT")

    result = analyze_file(path)

    assert result["peak_db"] == pytest.approx(-6.02, abs=0.05)
    assert result["rms_db"] == pytest.approx(-9.03, abs=0.1)


# -- tempo and key -----------------------------------------------------------------------


@pytest.mark.parametrize("bpm", [70, 140])
def test_half_and_double_time_drum_loops_keep_their_own_tempo(folder: Path, bpm: int):
    """The same groove at 70 and at 140 BPM, with names that give nothing away."""
    path = audio.write(folder / f"groove_{bpm}.wav", audio.drum_loop(bpm, bars=4))

    result = analyze_file(path, filename="take 3.wav", embedding=False)

    assert result["bpm"] == pytest.approx(bpm, rel=0.04)
    assert result["bpm_confidence"] > 0.5


@pytest.mark.parametrize("bpm", [80, 95, 120, 140, 174])
def test_tempo_of_drum_loops(folder: Path, bpm: int):
    path = audio.write(folder / f"drums_{bpm}.wav", audio.drum_loop(bpm, bars=2))

    result = analyze_file(path, filename="loop_01.wav", embedding=False)

    assert result["bpm"] == pytest.approx(bpm, rel=0.04)
    assert result["bpm_confidence"] > 0.5
    assert result["is_loop"] is True
    assert result["category"] == "drum_loop"
    assert result["key"] is None  # drums get no key


@pytest.mark.parametrize(
    ("tonic", "minor", "bpm"),
    [(60, False, 96), (67, False, 128), (54, False, 110), (65, False, 84),
     (62, True, 90), (57, True, 124), (64, True, 140), (58, True, 100)],
)  # fmt: skip
def test_key_and_mode_of_chord_progressions(folder: Path, tonic: int, minor: bool, bpm: int):
    path = audio.write(folder / f"prog_{tonic}_{minor}.wav", audio.progression(tonic, minor, bpm))

    result = analyze_file(path, filename="music_01.wav", embedding=False)

    assert (result["key"], result["mode"]) == (
        NOTE_NAMES[tonic % 12],
        "minor" if minor else "major",
    )
    assert result["key_confidence"] > 0.3
    assert result["bpm"] == pytest.approx(bpm, rel=0.04)
    assert result["category"] == "music_loop"


def test_noise_has_neither_tempo_nor_key(folder: Path):
    result = analyze_file(audio.write(folder / "noise.wav", audio.noise(3.0)), embedding=False)

    assert result["bpm"] is None
    assert result["key"] is None


def test_pitch_of_a_tonal_one_shot(folder: Path):
    result = analyze_file(audio.write(folder / "a2.wav", audio.tone(110.0, 1.0)))

    assert result["pitch_hz"] == pytest.approx(110.0, rel=0.01)
    assert result["pitch_note"] == "A2"


# -- categories, names and similarity -----------------------------------------------------


def test_tempo_and_key_words_in_names():
    assert bpm_from_name("Deep_Loop_128bpm_Am.wav") == 128
    assert bpm_from_name("bpm90_groove.wav") == 90
    assert bpm_from_name("Kick_808.wav") is None
    assert key_from_name("Deep_Loop_128bpm_Am.wav") == (9, "minor")
    assert key_from_name("Pad_F#min.wav") == (6, "minor")
    assert key_from_name("Keys_Bb_major.wav") == (10, "major")
    assert key_from_name("Kick_A.wav") is None


def test_a_kicks_nearest_neighbours_are_kicks(folder: Path):
    sounds = {
        "kick_a": audio.kick_variant(150, 45, 8, 0.5),
        "kick_b": audio.kick_variant(190, 52, 11, 0.4),
        "kick_c": audio.kick_variant(120, 40, 6, 0.6),
        "snare_a": audio.snare(seed=1),
        "snare_b": audio.snare(seed=2, seconds=0.25),
        "hat_a": audio.hihat(seed=3),
        "hat_b": audio.hihat(seed=4, seconds=0.2),
        "clap": audio.clap(),
        "pad": audio.pad(),
        "chord": audio.chord(55),
        "noise": audio.noise(1.0),
        "tone": audio.tone(330, 1.0),
    }
    vectors = {
        name: analyze_file(audio.write(folder / f"nn_{name}.wav", x))["embedding"]
        for name, x in sounds.items()
    }
    for vector in vectors.values():
        assert len(vector) == EMBEDDING_DIM
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-4)

    for kick in ("kick_a", "kick_b", "kick_c"):
        ranked = sorted(
            (n for n in vectors if n != kick),
            key=lambda n: cosine(vectors[kick], vectors[n]),
            reverse=True,
        )
        assert all(name.startswith("kick") for name in ranked[:2]), ranked[:4]


# -- in-memory analysis, peaks and previews ---------------------------------------------------


def test_analyze_audio_from_an_array():
    result = analyze_audio(Audio.from_array(audio.kick(), audio.SR), filename="x.wav")

    assert result["category"] == "kick"
    assert_clean(result)


def test_waveform_peaks_are_normalised_buckets(folder: Path):
    decoded = decode_audio(audio.write(folder / "peaks.wav", audio.drum_loop(100, bars=1)))

    peaks = waveform_peaks(decoded, 500)

    assert len(peaks) == 500
    assert max(peaks) == 1.0
    assert all(0.0 <= p <= 1.0 for p in peaks)
    assert waveform_peaks(decode_audio(audio.write(folder / "tiny.wav", audio.tone(seconds=0.002))))


def test_preview_is_ogg_at_most_44k1_and_a_minute(folder: Path):
    long = np.tile(audio.tone(440, 1.0, sr=48000), 65)
    stereo = np.stack([long, long * 0.5], axis=1)
    path = folder / "long48k.wav"
    sf.write(path, stereo, 48000, subtype="PCM_16")

    written = write_preview(decode_audio(path, max_seconds=90), folder / "preview.ogg")

    info = sf.info(folder / "preview.ogg")
    assert (info.format, info.subtype) == ("OGG", "VORBIS")
    assert info.samplerate == 44100 and info.channels == 2
    assert info.duration == pytest.approx(60.0, abs=0.1)
    assert written["seconds"] == pytest.approx(60.0, abs=0.1)


# -- the command -------------------------------------------------------------------------------


def test_analyze_file_command_prints_one_json_object_per_file(folder: Path):
    good = audio.write(folder / "cmd_kick.wav", audio.kick())
    loop = audio.write(folder / "cmd_loop.flac", audio.drum_loop(128, bars=2))
    out = StringIO()

    call_command("analyze_file", str(good), str(loop), "--json", "--embedding", stdout=out)

    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["path"] for row in rows] == [str(good), str(loop)]
    for row in rows:
        assert REQUIRED_KEYS <= row.keys()
        assert len(row["embedding"]) == EMBEDDING_DIM
    assert rows[1]["bpm"] == pytest.approx(128, rel=0.04)


def test_analyze_file_command_reports_failures_and_exits_non_zero(folder: Path):
    good = audio.write(folder / "cmd_ok.wav", audio.snare())
    bad = folder / "cmd_bad.wav"
    bad.write_text("not audio")
    out = StringIO()

    with pytest.raises(CommandError, match="1 of 2"):
        call_command("analyze_file", str(bad), str(good), "--json", stdout=out)

    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0] == {"path": str(bad), "error": rows[0]["error"]}
    assert "not audio" in rows[0]["error"]
    assert "embedding" not in rows[1] and rows[1]["category"] in CATEGORIES


def test_analyze_file_command_table(folder: Path):
    out = StringIO()

    call_command("analyze_file", str(audio.write(folder / "t.wav", audio.kick())), stdout=out)

    header, row = out.getvalue().splitlines()
    assert "category" in header and "kick" in row
