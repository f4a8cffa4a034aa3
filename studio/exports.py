"""Kits as files samplers read: SFZ, Decent Sampler presets, Ableton Drum Racks, metadata.

Pure text from :class:`PadEntry` rows, no Django. Drum pads sit on General
MIDI's drum keys (pad 1 on C1 = 36 .. pad 16 on D#2 = 51) and sound as
recorded. A melodic one-shot (bass, synth, keys, pad, vocal, with a root note)
also gets an instrument of its own that spans the keyboard from its root note,
so it plays in tune on every key.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import asdict, dataclass
from xml.etree import ElementTree as ET

from defusedxml import ElementTree as defused

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


# ---------------------------------------------------------------------- Ableton Live Drum Rack
#
# An .adg is gzipped XML. Live's device XML is large and undocumented, so the rack is not
# written from nothing: it starts from a Drum Rack that Live 12.1.5 itself saved (32 pads,
# each a Drum Sampler, "DrumCell"), shipped in the MIT-licensed ableton-device-creator
# package, and only the parts that name a pad's note and sample are rewritten. How those
# parts are written follows open tools that make presets Live loads: a pad's
# ZoneSettings/ReceivingNote counts down from 128 (MIDI note 36 is 92), and a sample is
# found relative to the User Library (RelativePathType 6, "Samples/Imported/...") with a
# LastModDate in seconds (ten digits) and no CRC. Not tried in Live here.

ABLETON_SAMPLES = "Samples/Imported/SampleMind"
ABLETON_PRESETS = "Presets/Instruments/Drum Rack"
_USER_LIBRARY = "6"  # RelativePathType: relative to Live's User Library


@dataclass(frozen=True)
class StoredAudio:
    """What Live's sample reference records besides the path."""

    size: int  # bytes
    frames: int
    sample_rate: int
    modified: int  # Unix seconds


def drum_rack_template() -> bytes:
    """The Live-saved Drum Rack the export starts from (gzipped XML)."""
    from ableton_device_creator.bundled import DRUM_RACK_TEMPLATE

    return DRUM_RACK_TEMPLATE.read_bytes()


def receiving_note(note: int) -> int:
    """Live stores a Drum Rack pad's MIDI note counted down from 128."""
    return 128 - note


def _set(parent: ET.Element, path: str, value: object) -> None:
    element = parent.find(path)
    if element is None:
        raise ValueError(f"the Drum Rack template has no {path}")
    element.set("Value", str(value))


def _point_at(file_ref: ET.Element, path: str, audio: StoredAudio | None) -> None:
    _set(file_ref, "RelativePathType", _USER_LIBRARY)
    _set(file_ref, "RelativePath", path)
    _set(file_ref, "Path", path)  # unknown here: Live falls back on the relative path
    _set(file_ref, "OriginalFileSize", audio.size if audio else 0)
    for crc in file_ref.findall("OriginalCrc"):
        file_ref.remove(crc)


def _forget_sources(element: ET.Element) -> None:
    # The template's own samples and folders, from the machine it was saved on.
    for context in element.iter("SourceContext"):
        for child in list(context):
            context.remove(child)


def ableton_drum_rack(
    name: str, pads: list[PadEntry], audio: list[StoredAudio], template: bytes
) -> bytes:
    """The kit as a Live 12 Drum Rack (.adg): pad N on MIDI note 35 + N, playing its file.

    ``pads[i].path`` is where the sample lies in the User Library (under
    ``ABLETON_SAMPLES``); ``audio[i]`` describes that file.
    """
    root = defused.fromstring(gzip.decompress(template))
    preset = root.find("GroupDevicePreset")
    branches = preset.find("BranchPresets") if preset is not None else None
    if branches is None or len(branches) < len(pads):
        raise ValueError("the Drum Rack template has too few pads")
    carriers = list(branches)[: len(pads)]
    for spare in list(branches)[len(pads) :]:
        branches.remove(spare)
    for branch, entry, stored in zip(carriers, pads, audio, strict=True):
        _set(branch, "Name", entry.name)
        _set(branch, "ZoneSettings/ReceivingNote", receiving_note(entry.note))
        _set(branch, "ZoneSettings/ChokeGroup", 0)
        _forget_sources(branch)
        sample = branch.find(".//DrumCell/UserSample/Value/SampleRef")
        if sample is None:
            raise ValueError("the Drum Rack template's pads hold no Drum Sampler")
        _point_at(sample.find("FileRef"), entry.path, stored)
        _set(sample, "LastModDate", stored.modified)
        _set(sample, "DefaultDuration", stored.frames)
        _set(sample, "DefaultSampleRate", stored.sample_rate)
    # The rack's own preset file, named twice: the file it was loaded from and saved as.
    for own in ("PresetRef", "Device/DrumGroupDevice/LastPresetRef/Value"):
        ref = preset.find(f"{own}/FilePresetRef/FileRef")
        if ref is not None:
            _point_at(ref, f"{ABLETON_PRESETS}/{safe_name(name)}.adg", None)
    xml = ET.tostring(root, encoding="unicode")
    return gzip.compress(('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode(), mtime=0)
