"""Decoding: one pass over the file, by content, never by extension.

libsndfile sniffs the container from the bytes, so a text file called
``kick.wav`` is refused and an MP3 called ``kick.wav`` is read as MP3. Files
are read in blocks: the first ``max_seconds`` are kept for analysis and the
preview, and the rest only flows through the level meter (for files up to
``levels_max_seconds``) and the waveform peak meter (when asked), so peak,
RMS, loudness and the drawn waveform describe the whole file while memory
stays bounded by the excerpt, whatever the file's length.

Some packs ship audio inside a container it does not belong in: an Ogg
Vorbis stream in a RIFF/WAVE ``data`` chunk (the old Vorbis ACM codec), or a
file behind an ID3 tag. When libsndfile refuses such a file, the stream
inside is read on its own, again by its content (see ``_embedded_stream``).
"""

from __future__ import annotations

import io
import os
import struct
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from library.analysis.loudness import LevelMeter, Levels
from library.analysis.waveform import PeakMeter

# Longer files are refused outright: nothing in a sample library is this long,
# and it bounds the work one upload can cause.
MAX_DURATION_SECONDS = 2 * 3600.0
# Beyond the kept excerpt, the rest of a file is streamed through the level
# meter only when the file is at most this long (a 20-minute WAV takes about
# a second); longer files report the levels of the excerpt.
LEVELS_MAX_SECONDS = 20 * 60.0
MIN_SAMPLE_RATE = 2000
MAX_SAMPLE_RATE = 768_000
MAX_CHANNELS = 64
BLOCK_FRAMES = 1 << 16
# The kept excerpt is read in smaller blocks: at most this much is lost before damage.
EXCERPT_BLOCK_FRAMES = 1 << 14
# libsndfile 1.2's MP3 decoder drops up to ~100 ms (returns silence) at the start
# of every read that follows one ending inside an MPEG frame. MP3s are therefore
# read in as few calls as possible: the excerpt in one, the rest in large blocks
# (one short dropout per ~24 s, under 0.02 dB on the loudness).
MP3_BLOCK_FRAMES = 1 << 20

_FORMATS = {
    "WAV": "wav",
    "WAVEX": "wav",
    "RF64": "wav",
    "W64": "wav",
    "AIFF": "aiff",
    "FLAC": "flac",
    "OGG": "ogg",
    "MP3": "mp3",
    "MPEG": "mp3",
}
_BIT_DEPTHS = {
    "PCM_S8": 8,
    "PCM_U8": 8,
    "PCM_16": 16,
    "PCM_24": 24,
    "PCM_32": 32,
    "FLOAT": 32,
    "DOUBLE": 64,
    "ALAC_16": 16,
    "ALAC_20": 20,
    "ALAC_24": 24,
    "ALAC_32": 32,
}


class AudioDecodeError(ValueError):
    """The file cannot be decoded as audio; the message is meant for the uploader."""


@dataclass
class Audio:
    """Decoded audio: the kept excerpt as arrays, plus what is known of the whole file.

    ``channels_data`` is ``(frames, channels)`` float32 at the file's own rate
    (what a preview is written from); ``samples`` is its mono mix, for analysis.
    ``duration`` and ``frames`` describe the whole file, which may be longer than
    the arrays when decoding stopped at ``max_seconds`` (then ``is_excerpt``).
    ``file_levels`` holds whole-file peak/RMS/loudness when they were measured
    while streaming past the excerpt; ``file_peaks`` a whole-file peak envelope
    (see ``waveform.PeakMeter``) when it was asked for.
    """

    samples: np.ndarray
    channels_data: np.ndarray
    sample_rate: int
    channels: int
    bit_depth: int | None
    format: str
    duration: float
    frames: int
    subtype: str = ""
    file_levels: Levels | None = field(default=None, repr=False)
    file_peaks: np.ndarray | None = field(default=None, repr=False)

    @property
    def is_excerpt(self) -> bool:
        return self.samples.shape[0] < self.frames

    @property
    def excerpt_seconds(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    @classmethod
    def from_array(
        cls,
        data: np.ndarray,
        sample_rate: int,
        *,
        format: str = "wav",
        bit_depth: int | None = None,
    ) -> Audio:
        """Wrap an in-memory signal (``(frames,)`` or ``(frames, channels)``)."""
        data = np.asarray(data, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or data.shape[0] == 0 or data.shape[1] == 0:
            raise AudioDecodeError("The audio is empty")
        data = np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=-1.0)
        return cls(
            samples=_mono(data),
            channels_data=data,
            sample_rate=int(sample_rate),
            channels=data.shape[1],
            bit_depth=bit_depth,
            format=format,
            duration=data.shape[0] / sample_rate,
            frames=data.shape[0],
        )


def _mono(data: np.ndarray) -> np.ndarray:
    if data.shape[1] == 1:
        return np.ascontiguousarray(data[:, 0])
    return data.mean(axis=1, dtype=np.float32)


def _reason(exc: Exception) -> str:
    """libsndfile's message without the file path it likes to quote."""
    text = str(exc).strip()
    if "': " in text:
        text = text.split("': ", 1)[1]
    for prefix in ("Error : ", "Error: "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text.rstrip(".") or type(exc).__name__


_SOUNDFILE_ERRORS = (sf.LibsndfileError, RuntimeError, TypeError, ValueError)
# How many RIFF chunks are looked at for the data chunk before giving up.
MAX_RIFF_CHUNKS = 64


class _Window(io.RawIOBase):
    """Bytes ``start`` to ``start + length`` of a file, read as a file of their own."""

    def __init__(self, path: str, start: int, length: int) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._start, self._length, self._pos = start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        wanted = max(0, min(len(buffer), self._length - self._pos))
        if not wanted:
            return 0
        self._file.seek(self._start + self._pos)
        got = self._file.readinto(memoryview(buffer)[:wanted]) or 0
        self._pos += got
        return got

    def close(self) -> None:
        self._file.close()
        super().close()


def _embedded_stream(path: str) -> tuple[int, int] | None:
    """Where a stream libsndfile may read sits inside a file it refused, as (start, length).

    Two wrappings are unwrapped: an ID3v2 tag in front of the audio, and a
    RIFF/WAVE file whose ``data`` chunk holds a whole stream of its own (Ogg
    Vorbis written by the Vorbis ACM codec, modes 1 and 1+). None when the
    file is neither; what the stream is, is again left to its bytes.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(12)
        if head[:3] == b"ID3" and len(head) >= 10:
            # ID3v2: 10-byte header, a syncsafe length, a 10-byte footer when flagged.
            length = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
            start = 10 + length + (10 if head[5] & 0x10 else 0)
            return (start, size - start) if start < size else None
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        offset = 12
        for _ in range(MAX_RIFF_CHUNKS):
            handle.seek(offset)
            chunk = handle.read(8)
            if len(chunk) < 8:
                return None
            chunk_id, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"data":
                start = offset + 8
                # A streamed or cut file's size field may be wrong: the file's end bounds it.
                return (start, min(length, size - start)) if start < size else None
            offset += 8 + length + (length & 1)
    return None


def _open(path: str, stack: ExitStack) -> sf.SoundFile:
    """The file opened by libsndfile, or the stream wrapped inside it; closed with ``stack``."""
    try:
        return stack.enter_context(sf.SoundFile(path))
    except _SOUNDFILE_ERRORS as exc:
        refused = exc
    inner = _embedded_stream(path)
    if inner is not None:
        window = stack.enter_context(_Window(path, *inner))
        try:
            return stack.enter_context(sf.SoundFile(window, mode="r"))
        except _SOUNDFILE_ERRORS:
            pass  # the wrapper's own reason says more than the payload's
    reason = _reason(refused)
    # libsndfile answers "not a regular file" for some unrecognised short files.
    if "not recognised" in reason or "not a regular file" in reason or "pipe" in reason:
        reason = "format not recognised"
    raise AudioDecodeError(f"This file is not audio we can read ({reason})")


def _read_excerpt(
    f: sf.SoundFile, keep: int, channels: int, *, whole: bool = False
) -> tuple[np.ndarray, bool]:
    """Up to ``keep`` frames, and whether decoding broke off early.

    Read in small blocks so that a file damaged part-way (a cut FLAC loses
    sync) keeps the audio before the damage, like a WAV that merely ends early.
    Only a file that yields no audio at all is refused. ``whole`` reads it in
    one call instead (MP3, see ``MP3_BLOCK_FRAMES``; its decoder already
    returns what precedes damage).
    """
    step = keep if whole else EXCERPT_BLOCK_FRAMES
    parts, got = [], 0
    try:
        while got < keep:
            block = f.read(min(step, keep - got), dtype="float32", always_2d=True)
            if block.shape[0] == 0:
                break
            parts.append(block)
            got += block.shape[0]
    except (sf.LibsndfileError, RuntimeError) as exc:
        if not got:
            raise AudioDecodeError(f"The file is truncated or corrupt ({_reason(exc)})") from None
        return np.concatenate(parts), True
    except MemoryError:
        raise AudioDecodeError("The file is too large to decode") from None
    if not parts:
        return np.zeros((0, channels), dtype=np.float32), False
    return (parts[0] if len(parts) == 1 else np.concatenate(parts)), False


def decode_audio(
    path: str | os.PathLike,
    *,
    max_seconds: float | None = None,
    levels_max_seconds: float | None = LEVELS_MAX_SECONDS,
    peaks: bool = False,
) -> Audio:
    """Decode ``path`` (WAV, AIFF, FLAC, Ogg Vorbis/Opus or MP3, sniffed from its bytes).

    Keeps at most ``max_seconds`` of audio in memory (all of it when None).
    Past that excerpt the file is streamed in blocks: through the level meter
    when it is at most ``levels_max_seconds`` long (always when None; never
    when 0, then only the header's length is used), and through a peak meter
    for ``Audio.file_peaks`` when ``peaks`` is true.
    Raises ``FileNotFoundError`` for a missing path and ``AudioDecodeError`` for an
    empty, unrecognised, unsupported, absurd, truncated-beyond-use or corrupt file.
    A file that ends early or is damaged part-way (a cut WAV, MP3 or FLAC) is
    decoded as far as it goes.
    """
    path = os.fspath(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f"No such file: {path}")
    if os.path.getsize(path) == 0:
        raise AudioDecodeError("The file is empty")
    with ExitStack() as stack:
        f = _open(path, stack)
        fmt = _FORMATS.get(f.format)
        if fmt is None:
            raise AudioDecodeError(
                f"This file is not audio we can read ({f.format_info or f.format} files are not "
                "supported; use WAV, AIFF, FLAC, Ogg Vorbis or MP3)"
            )
        sr, channels = int(f.samplerate), int(f.channels)
        if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
            raise AudioDecodeError(f"The sample rate ({sr} Hz) is not one we can analyse")
        if not 1 <= channels <= MAX_CHANNELS:
            raise AudioDecodeError(f"The file has {channels} channels; at most {MAX_CHANNELS}")
        subtype = f.subtype
        header_frames = max(0, int(f.frames))
        if header_frames / sr > MAX_DURATION_SECONDS:
            raise AudioDecodeError(
                f"The file is too long ({header_frames / sr / 60:.0f} minutes; "
                f"at most {MAX_DURATION_SECONDS / 60:.0f})"
            )
        keep = header_frames if max_seconds is None else min(header_frames, int(max_seconds * sr))
        keep = max(keep, 1)
        data, damaged = _read_excerpt(f, keep, channels, whole=fmt == "mp3")
        decoded = data.shape[0]
        more = (
            max_seconds is not None and not damaged and decoded == keep and header_frames > decoded
        )
        measure = more and (
            levels_max_seconds is None or 0 < header_frames / sr <= levels_max_seconds
        )
        meter = LevelMeter(sr, channels) if measure else None
        peak_meter = PeakMeter(max(header_frames, decoded)) if peaks else None
        for sink in (meter, peak_meter):
            if sink is not None:
                sink.feed(data)
        if meter is not None or (more and peak_meter is not None):
            try:
                size = MP3_BLOCK_FRAMES if fmt == "mp3" else BLOCK_FRAMES
                for block in f.blocks(size, dtype="float32", always_2d=True):
                    if meter is not None:
                        meter.feed(block)
                    if peak_meter is not None:
                        peak_meter.feed(block)
                    decoded += block.shape[0]
            except (sf.LibsndfileError, RuntimeError):
                # Damage past the kept excerpt: the file is measured as far as it
                # decodes, like a file that ends early.
                pass
        elif more:
            decoded = header_frames  # the rest was not read: trust the header
        levels = meter.result() if meter is not None else None
    if data.shape[0] == 0:
        raise AudioDecodeError("The file is truncated: it holds no audio frames")
    if not np.isfinite(data).all():
        data = np.nan_to_num(data, nan=0.0, posinf=1.0, neginf=-1.0)
    frames = max(decoded, data.shape[0])
    return Audio(
        samples=_mono(data),
        channels_data=data,
        sample_rate=sr,
        channels=channels,
        bit_depth=_BIT_DEPTHS.get(subtype),
        format=fmt,
        duration=frames / sr,
        frames=frames,
        subtype=subtype,
        file_levels=levels,
        file_peaks=None if peak_meter is None else peak_meter.result(),
    )
