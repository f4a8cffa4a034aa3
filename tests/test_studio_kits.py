"""Kits: sixteen pads, shared like collections, completed by sound, exported for samplers."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zipfile

import numpy as np
import pytest
from defusedxml import ElementTree as ET
from django.core.files.base import ContentFile

from accounts.models import Role
from studio.models import Kit
from tests import audio
from tests.factories import SampleFactory, UserFactory, bearer
from tests.studio_helpers import analysed_sample, keys_note

pytestmark = pytest.mark.django_db


def send(client, user, method: str, url: str, body: dict | None = None):
    call = getattr(client, method)
    return call(url, json.dumps(body or {}), content_type="application/json", **bearer(user))


def new_kit(client, user, name: str = "Dusty kit", **fields) -> dict:
    answer = send(client, user, "post", "/api/v1/kits", {"name": name, **fields})
    assert answer.status_code == 201, answer.content
    return answer.json()


def set_pads(client, user, kit_id: int, pads: dict[int, object]):
    body = {"pads": [{"pad": pad, "sample_id": str(s) if s else None} for pad, s in pads.items()]}
    return send(client, user, "put", f"/api/v1/kits/{kit_id}/pads", body)


def wav_sample(owner, **fields):
    sample = SampleFactory(owner=owner, **fields)
    buffer = io.BytesIO()
    import soundfile as sf

    sf.write(buffer, audio.kick(), audio.SR, format="WAV", subtype="PCM_16")
    sample.file.save("kick.wav", ContentFile(buffer.getvalue()), save=True)
    return sample


@pytest.fixture
def producer():
    return UserFactory(role=Role.PRO)


def test_kits_are_made_listed_renamed_and_unique_per_name(client, producer):
    kit = new_kit(client, producer)

    assert send(client, producer, "post", "/api/v1/kits", {"name": "Dusty kit"}).status_code == 409
    renamed = send(client, producer, "patch", f"/api/v1/kits/{kit['id']}", {"name": "Crate"})
    assert renamed.json()["name"] == "Crate"
    listed = client.get("/api/v1/kits", **bearer(producer)).json()["results"]
    assert [k["name"] for k in listed] == ["Crate"]


def test_others_private_kits_are_404_and_public_ones_read_only(client, producer):
    private = new_kit(client, producer, "Mine")
    public = new_kit(client, producer, "Shared", visibility="public")
    stranger = UserFactory(role=Role.PRO)

    assert client.get(f"/api/v1/kits/{private['id']}", **bearer(stranger)).status_code == 404
    assert client.get(f"/api/v1/kits/{public['id']}", **bearer(stranger)).status_code == 200
    listed = client.get("/api/v1/kits?scope=public", **bearer(stranger)).json()["results"]
    assert [k["name"] for k in listed] == ["Shared"]
    answer = send(client, stranger, "patch", f"/api/v1/kits/{public['id']}", {"name": "Taken"})
    assert answer.status_code == 403


def test_sharing_a_kit_needs_the_plans_share_permission(client):
    free = UserFactory(role=Role.FREE)

    answer = send(client, free, "post", "/api/v1/kits", {"name": "K", "visibility": "public"})

    assert answer.status_code == 403


def test_pads_take_samples_you_may_open_and_refuse_others(client, producer):
    kit = new_kit(client, producer)
    kick = wav_sample(producer, name="Kick", category="kick")
    strangers = wav_sample(UserFactory(), name="Private snare", category="snare")

    answer = set_pads(client, producer, kit["id"], {1: kick.pk, 2: strangers.pk})

    assert answer.status_code == 400
    assert list(answer.json()["error"]["details"]["pads"]) == ["2"]
    assert set_pads(client, producer, kit["id"], {1: kick.pk}).status_code == 200
    detail = client.get(f"/api/v1/kits/{kit['id']}", **bearer(producer)).json()
    assert [(p["pad"], p["note"], p["sample"]["name"]) for p in detail["pads"]] == [(1, 36, "Kick")]
    set_pads(client, producer, kit["id"], {1: None})
    assert client.get(f"/api/v1/kits/{kit['id']}", **bearer(producer)).json()["pads"] == []


@pytest.mark.parametrize("body", [{"pads": [{"pad": 17, "sample_id": None}]}, {"pads": []}])
def test_bad_pad_numbers_answer_400(client, producer, body):
    kit = new_kit(client, producer)

    assert send(client, producer, "put", f"/api/v1/kits/{kit['id']}/pads", body).status_code == 400


@pytest.fixture
def kit_with_keys(client, producer, tmp_path) -> tuple[dict, object, object]:
    """Kick on pad 1 and a keys one-shot in A3 (MIDI 57) on pad 5."""
    kit = new_kit(client, producer, "Boom Bap")
    kick = wav_sample(producer, name="Kick", category="kick")
    keys = analysed_sample(producer, audio.write(tmp_path / "Rhodes A.wav", keys_note(57)))
    assert keys.descriptors["root_note"] == "A3" and keys.category in ("keys", "synth")
    assert set_pads(client, producer, kit["id"], {1: kick.pk, 5: keys.pk}).status_code == 200
    return kit, kick, keys


def export(client, user, kit_id: int, fmt: str) -> zipfile.ZipFile:
    answer = client.get(f"/api/v1/kits/{kit_id}/export?format={fmt}", **bearer(user))
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))


def sfz_regions(text: str) -> list[dict[str, str]]:
    regions = []
    for line in text.splitlines():
        if line.startswith("<region>"):
            regions.append(dict(re.findall(r"(\w+)=(\S+(?: \S+)*?)(?= \w+=|$)", line[8:])))
    return regions


def test_sfz_export_points_at_the_right_files_pads_and_root_notes(client, producer, kit_with_keys):
    kit, _kick, _keys = kit_with_keys

    bundle = export(client, producer, kit["id"], "sfz")

    names = set(bundle.namelist())
    regions = sfz_regions(bundle.read("Boom Bap/Boom Bap.sfz").decode())
    assert [(r["key"], r["pitch_keycenter"]) for r in regions] == [("36", "36"), ("40", "40")]
    for region in regions:
        assert f"Boom Bap/{region['sample']}" in names
    assert regions[0]["sample"].startswith("Samples/01 Kick")
    instrument = sfz_regions(bundle.read("Boom Bap/Instruments/05 Rhodes A.sfz").decode())
    assert instrument == [
        {
            "sample": "../Samples/05 Rhodes A.wav",
            "lokey": "0",
            "hikey": "127",
            "pitch_keycenter": "57",
        }
    ]
    assert "Boom Bap/Samples/05 Rhodes A.wav" in names
    kick_bytes = bundle.read(f"Boom Bap/{regions[0]['sample']}")
    assert kick_bytes[:4] == b"RIFF"


def test_decent_sampler_export_parses_and_maps_pads_and_root_notes(client, producer, kit_with_keys):
    kit, _kick, _keys = kit_with_keys

    bundle = export(client, producer, kit["id"], "dspreset")

    names = set(bundle.namelist())
    preset = ET.fromstring(bundle.read("Boom Bap/Boom Bap.dspreset"))
    assert preset.tag == "DecentSampler"
    samples = preset.findall("./groups/group/sample")
    assert [(s.get("rootNote"), s.get("loNote"), s.get("hiNote")) for s in samples] == [
        ("36", "36", "36"),
        ("40", "40", "40"),
    ]
    assert all(f"Boom Bap/{s.get('path')}" in names for s in samples)
    keys = ET.fromstring(bundle.read("Boom Bap/Instruments/05 Rhodes A.dspreset"))
    (sample,) = keys.findall("./groups/group/sample")
    assert (sample.get("rootNote"), sample.get("loNote"), sample.get("hiNote")) == (
        "57",
        "0",
        "127",
    )
    assert sample.get("path") == "../Samples/05 Rhodes A.wav"


def test_ableton_drum_rack_export_parses_and_maps_pads_to_files_and_notes(
    client, producer, kit_with_keys
):
    kit, kick, keys = kit_with_keys

    bundle = export(client, producer, kit["id"], "adg")

    # A piece of Live's User Library: the rack where Live lists Drum Racks, the samples
    # where the rack looks for them (relative to the User Library).
    names = set(bundle.namelist())
    xml = gzip.decompress(bundle.read("Boom Bap/Presets/Instruments/Drum Rack/Boom Bap.adg"))
    rack = ET.fromstring(xml)
    assert rack.tag == "Ableton" and rack.get("Creator", "").startswith("Ableton Live 12")
    assert rack.find("GroupDevicePreset/Device/DrumGroupDevice") is not None
    pads = []
    for branch in rack.findall("GroupDevicePreset/BranchPresets/DrumBranchPreset"):
        sample = branch.find(".//DrumCell/UserSample/Value/SampleRef")
        ref = sample.find("FileRef")
        path = ref.find("RelativePath").get("Value")
        note = 128 - int(branch.find("ZoneSettings/ReceivingNote").get("Value"))
        pads.append((branch.find("Name").get("Value"), note, path))
        assert ref.find("RelativePathType").get("Value") == "6"
        stored = bundle.read(f"Boom Bap/{path}")
        assert int(ref.find("OriginalFileSize").get("Value")) == len(stored)
        assert ref.find("OriginalCrc") is None
        assert re.fullmatch(r"\d{10}", sample.find("LastModDate").get("Value"))
    folder = "Samples/Imported/SampleMind/Boom Bap"
    assert pads == [
        ("Kick", 36, f"{folder}/01 Kick.wav"),
        ("Rhodes A", 40, f"{folder}/05 Rhodes A.wav"),
    ]
    assert {f"Boom Bap/{path}" for _name, _note, path in pads} <= names
    assert bundle.read(f"Boom Bap/{folder}/01 Kick.wav")[:4] == b"RIFF"
    # Nothing of the machine the template was saved on is left to look for.
    assert b"/Users/" not in xml and b"Native Instruments" not in xml
    # The keys' root note travels in the metadata beside the rack.
    meta = json.loads(bundle.read("Boom Bap/kit.json"))
    assert [(p["pad"], p["path"], p["root_note"]) for p in meta["pads"]] == [
        (1, f"{folder}/01 Kick.wav", None),
        (5, f"{folder}/05 Rhodes A.wav", "A3"),
    ]


def test_plain_zip_carries_samples_and_metadata(client, producer, kit_with_keys):
    kit, kick, keys = kit_with_keys

    bundle = export(client, producer, kit["id"], "zip")

    meta = json.loads(bundle.read("Boom Bap/kit.json"))
    assert [(p["pad"], p["note"], p["sample_id"]) for p in meta["pads"]] == [
        (1, 36, str(kick.pk)),
        (5, 40, str(keys.pk)),
    ]
    rows = list(csv.DictReader(io.StringIO(bundle.read("Boom Bap/kit.csv").decode())))
    assert [(r["pad"], r["root_note"]) for r in rows] == [("1", ""), ("5", "A3")]
    assert not any(name.endswith((".sfz", ".dspreset")) for name in bundle.namelist())


def test_bad_export_format_answers_400(client, producer):
    kit = new_kit(client, producer)

    answer = client.get(f"/api/v1/kits/{kit['id']}/export?format=als", **bearer(producer))

    assert answer.status_code == 400


def vector(*values: float) -> list[float]:
    out = np.zeros(64)
    out[: len(values)] = values
    return list(out / np.linalg.norm(out))


def test_complete_this_kit_suggests_the_nearest_sounds_of_each_kind_you_may_open(client, producer):
    kit = new_kit(client, producer)
    seed = wav_sample(producer, name="Seed kick", category="kick", embedding=vector(1, 0.1))
    set_pads(client, producer, kit["id"], {1: seed.pk})
    near = SampleFactory(
        owner=producer, name="Near snare", category="snare", embedding=vector(1, 0.2)
    )
    far = SampleFactory(owner=producer, name="Far snare", category="snare", embedding=vector(0, 1))
    SampleFactory(owner=producer, name="Hat", category="hihat", embedding=vector(1, 0.5))
    SampleFactory(owner=producer, name="Loop", category="snare", is_loop=True, embedding=vector(1))
    stranger = UserFactory()
    SampleFactory(owner=stranger, name="Hidden snare", category="snare", embedding=vector(1, 0.1))
    SampleFactory(
        owner=stranger,
        name="Public clap",
        category="clap",
        visibility="public",
        embedding=vector(1, 0.3),
    )

    answer = client.get(f"/api/v1/kits/{kit['id']}/suggestions", **bearer(producer))

    assert answer.status_code == 200
    found = {k: [s["name"] for s in v] for k, v in answer.json()["suggestions"].items()}
    assert found["snare"] == [near.name, far.name]
    assert found["hihat"] == ["Hat"] and found["clap"] == ["Public clap"]
    assert found["kick"] == []  # the seed itself is on the kit
    assert answer.json()["seed"]["name"] == "Seed kick"


def test_suggestions_need_a_seed(client, producer):
    kit = new_kit(client, producer)

    answer = client.get(f"/api/v1/kits/{kit['id']}/suggestions", **bearer(producer))

    assert answer.status_code == 409


def test_deleting_a_kit_keeps_its_samples(client, producer):
    kit = new_kit(client, producer)
    kick = wav_sample(producer, category="kick")
    set_pads(client, producer, kit["id"], {1: kick.pk})

    assert send(client, producer, "delete", f"/api/v1/kits/{kit['id']}").status_code == 204

    assert not Kit.objects.exists()
    kick.refresh_from_db()
