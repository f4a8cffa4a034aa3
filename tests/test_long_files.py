"""Long uploads: the worker analyses them in bounded memory and still describes the whole file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from django.core.files.base import ContentFile

from library.analysis import decode_audio, waveform_peaks
from library.analysis.loudness import measure_levels
from library.models import SampleStatus
from library.services.analysis import KEEP_SECONDS, sample_analyze
from tests import audio
from tests.factories import SampleFactory

# Low rate and mono keep a 12-minute file small (11 MB) and quick to write.
RATE = 8000
MINUTES = 12


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory: pytest.TempPathFactory):
    """12 minutes of a quiet drum loop whose last minute is four times louder."""
    loop = audio.drum_loop(120, bars=1, sr=RATE)
    total = MINUTES * 60 * RATE
    signal = np.tile(loop, total // loop.size + 1)[:total] * 0.2
    signal[-60 * RATE :] *= 4.0
    path = tmp_path_factory.mktemp("long") / "long take.wav"
    sf.write(path, signal, RATE, subtype="PCM_16")
    return path


def test_decoding_keeps_only_the_excerpt_but_peaks_span_the_whole_file(long_recording):
    decoded = decode_audio(long_recording, max_seconds=60, levels_max_seconds=None, peaks=True)

    assert decoded.channels_data.shape[0] == 60 * RATE  # what stays in memory
    assert decoded.duration == pytest.approx(MINUTES * 60, abs=0.01)
    peaks = waveform_peaks(decoded, 720)
    assert len(peaks) == 720
    # One point per second: the loud last minute is the last 60 points.
    assert min(peaks[-59:]) > 0.9
    assert max(peaks[:-61]) < 0.3


@pytest.mark.django_db
def test_a_long_upload_is_analysed_whole_file_waveform_and_levels_with_a_short_preview(
    long_recording,
):
    sample = SampleFactory(status=SampleStatus.PENDING, original_filename="long take.wav")
    sample.file.save("long.wav", ContentFile(long_recording.read_bytes()), save=True)

    assert sample_analyze(sample_id=str(sample.pk)) == "ready"

    sample.refresh_from_db()
    assert sample.duration == pytest.approx(MINUTES * 60, abs=0.01)
    assert len(sample.waveform) == 800
    loud_from = int(800 * (MINUTES - 1) / MINUTES) + 1
    assert min(sample.waveform[loud_from:]) > 0.9
    assert max(sample.waveform[: loud_from - 2]) < 0.3
    # Peak level comes from the loud last minute, eleven minutes past the excerpt.
    assert sample.peak_db > 20 * np.log10(0.2) + 10
    assert sample.bpm == pytest.approx(120, rel=0.04)
    assert sample.descriptors["analysed_seconds"] <= KEEP_SECONDS
    # The preview stays an audition-length excerpt.
    with sample.preview.open("rb") as handle:
        assert sf.info(handle).duration == pytest.approx(60.0, abs=0.1)


def test_a_long_mp3_streams_without_dropouts(tmp_path):
    """libsndfile's MP3 decoder drops audio at read boundaries; decoding must not show it."""
    rate = 22050
    tone = audio.tone(440, 150.0, sr=rate, amp=0.5)
    path = tmp_path / "long tone.mp3"
    sf.write(path, tone, rate, format="MP3", subtype="MPEG_LAYER_III")
    whole, _ = sf.read(path, dtype="float32", always_2d=True)  # one read: no boundaries

    decoded = decode_audio(path, max_seconds=60, levels_max_seconds=None, peaks=True)

    excerpt = whole[: decoded.channels_data.shape[0]]
    np.testing.assert_allclose(decoded.channels_data, excerpt, atol=1e-5)
    peaks = waveform_peaks(decoded, 300)
    assert min(peaks[1:-1]) > 0.9  # a steady tone: no silent gaps in the drawing
    expected = measure_levels(whole, rate).loudness_lufs
    assert decoded.file_levels.loudness_lufs == pytest.approx(expected, abs=0.05)
