"""A Standard MIDI File writer, just enough to drive fluidsynth: one track, notes on channels."""

from __future__ import annotations

import struct
from dataclasses import dataclass

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9


@dataclass(frozen=True)
class Note:
    start: float  # seconds
    length: float  # seconds
    pitch: int
    velocity: int = 100
    channel: int = 0


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


@dataclass(frozen=True)
class Program:
    """Select ``bank``/``program`` on ``channel`` at ``time`` s (on channel 9, a drum kit)."""

    time: float
    channel: int
    bank: int
    program: int


def midi_bytes(notes: list[Note], programs: list[Program]) -> bytes:
    """A type-0 file at 120 BPM, so a second is 960 ticks."""
    ticks = TICKS_PER_BEAT * 2
    events: list[tuple[int, int, bytes]] = []
    for p in programs:
        at = round(p.time * ticks)
        events.append((at, 0, bytes([0xB0 | p.channel, 0, p.bank & 0x7F])))
        events.append((at, 0, bytes([0xB0 | p.channel, 32, 0])))
        events.append((at, 1, bytes([0xC0 | p.channel, p.program & 0x7F])))
        events.append((at, 1, bytes([0xB0 | p.channel, 7, 127])))  # full channel volume
    for n in notes:
        on = round(n.start * ticks)
        off = max(on + 1, round((n.start + n.length) * ticks))
        events.append((on, 3, bytes([0x90 | n.channel, n.pitch, max(1, min(127, n.velocity))])))
        events.append((off, 2, bytes([0x80 | n.channel, n.pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20")  # tempo: 500,000 us a beat
    now = 0
    for tick, _, data in events:
        track += _varlen(tick - now) + data
        now = tick
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)
