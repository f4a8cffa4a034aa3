"""Kits as files samplers read: SFZ, Decent Sampler presets, metadata JSON and CSV.

Pure text from :class:`PadEntry` rows, no Django. Drum pads sit on General
MIDI's drum keys (pad 1 on C1 = 36 .. pad 16 on D#2 = 51) and sound as
recorded. A melodic one-shot (bass, synth, keys, pad, vocal, with a root note)
also gets an instrument of its own that spans the keyboard from its root note,
so it plays in tune on every key.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from xml.etree import ElementTree as ET

from search.keys import PITCHES

MELODIC_CATEGORIES = frozenset({"bass", "synth", "keys", "pad", "vocal"})
_NOTE = re.compile(r"^(?P<pitch>[A-G]#?)(?P<octave>-?\d+)$")


def midi_number(note: str | None) -> int | None:
    """``"A3"`` -> 57 (C4 = 60); None for anything else."""
    match = _NOTE.match(note or "")
    if not match:
        return None
    number = (int(match["octave"]) + 1) * 12 + PITCHES.index(match["pitch"])
    return number if 0 <= number <= 127 else None


@dataclass(frozen=True)
class PadEntry:
    pad: int  # 0..15
    note: int  # the MIDI key that plays the pad
    path: str  # the sample's path inside the export, "/"-separated
    name: str
    category: str | None
    root_note: str | None
    is_loop: bool
    bpm: float | None
    key: str | None
    mode: str | None
    duration: float | None
    sample_id: str

    @property
    def melodic(self) -> bool:
        return (
            self.category in MELODIC_CATEGORIES
            and not self.is_loop
            and midi_number(self.root_note) is not None
        )

    @property
    def instrument_name(self) -> str:
        return f"{self.pad + 1:02d} {safe_name(self.name)}"


def safe_name(text: str) -> str:
    """A file name from a sample's name: letters, digits, space, - and _ only."""
    cleaned = "".join(c if c.isalnum() or c in " -_" else "_" for c in text).strip()
    return cleaned[:80] or "sample"


def _sfz_path(path: str) -> str:
    return path.replace("\\", "/")


def sfz_kit(name: str, pads: list[PadEntry]) -> str:
    """The kit as one SFZ: each pad its own key, played at the pitch it was recorded."""
    lines = [f"// {name}: {len(pads)} pads, exported by SampleMind", "<control>", "<group>"]
    for entry in pads:
        lines += [
            f"// pad {entry.pad + 1}: {entry.name}",
            # sample= last: its value may hold spaces, read to the end of the line.
            f"<region> key={entry.note} pitch_keycenter={entry.note} "
            f"sample={_sfz_path(entry.path)}",
        ]
    return "\n".join(lines) + "\n"


def sfz_instrument(entry: PadEntry, *, prefix: str = "../") -> str:
    """A melodic one-shot across the whole keyboard, in tune from its root note."""
    root = midi_number(entry.root_note)
    return (
        f"// {entry.name}: root note {entry.root_note}, exported by SampleMind\n"
        "<group>\n"
        f"<region> lokey=0 hikey=127 pitch_keycenter={root} "
        f"sample={prefix}{_sfz_path(entry.path)}\n"
    )


def _decent_sampler(samples: list[dict]) -> str:
    root = ET.Element("DecentSampler", minVersion="1.0.0")
    ui = ET.SubElement(root, "ui", width="812", height="375")
    ET.SubElement(ui, "tab", name="main")
    groups = ET.SubElement(root, "groups")
    group = ET.SubElement(groups, "group")
    for attributes in samples:
        ET.SubElement(group, "sample", {k: str(v) for k, v in attributes.items()})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def dspreset_kit(pads: list[PadEntry]) -> str:
    """The kit as a Decent Sampler preset (XML): each pad on its own note."""
    return _decent_sampler(
        [
            {
                "path": entry.path,
                "rootNote": entry.note,
                "loNote": entry.note,
                "hiNote": entry.note,
                "name": entry.name,
            }
            for entry in pads
        ]
    )


def dspreset_instrument(entry: PadEntry, *, prefix: str = "../") -> str:
    root = midi_number(entry.root_note)
    return _decent_sampler(
        [
            {
                "path": prefix + entry.path,
                "rootNote": root,
                "loNote": 0,
                "hiNote": 127,
                "name": entry.name,
            }
        ]
    )


METADATA_FIELDS = (
    "pad",
    "note",
    "path",
    "name",
    "category",
    "root_note",
    "is_loop",
    "bpm",
    "key",
    "mode",
    "duration",
    "sample_id",
)


def metadata_json(name: str, pads: list[PadEntry]) -> str:
    rows = [{**asdict(entry), "pad": entry.pad + 1} for entry in pads]
    return json.dumps({"kit": name, "pads": rows}, indent=2, ensure_ascii=False) + "\n"


def metadata_csv(pads: list[PadEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=METADATA_FIELDS)
    writer.writeheader()
    for entry in pads:
        row = {key: _cell(value) for key, value in asdict(entry).items()}
        writer.writerow({**row, "pad": entry.pad + 1})
    return out.getvalue()


def _cell(value):
    # A name such as "=HYPERLINK(...)" must stay text when a spreadsheet opens the file.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
