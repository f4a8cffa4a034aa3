"""Studio API serializers: validation and output only; writes go through services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from library.models import MODE_CHOICES, Sample, Visibility
from search.keys import UnknownKey, camelot, parse_key
from studio.matching import key_shifts
from studio.models import (
    BPM_MAX,
    BPM_MIN,
    PADS,
    Kit,
    KitPad,
    ProjectSettings,
    Render,
    RenderFormat,
    Slice,
)


def read_key(text: str, mode: str | None) -> tuple[str, str]:
    """``("F minor", None)`` -> ``("F", "minor")``; a mode in the text must agree with ``mode``."""
    try:
        pitch, named_mode = parse_key(text)
    except UnknownKey as exc:
        raise serializers.ValidationError({"key": [str(exc)]}) from None
    if named_mode and mode and named_mode != mode:
        raise serializers.ValidationError(
            {"mode": [f"{text!r} is {named_mode}, but mode says {mode}."]}
        )
    return pitch, named_mode or mode or "major"


class ProjectSerializer(serializers.ModelSerializer):
    """The project tempo and key. ``key`` takes C, F#, Bb, Am, "F minor" or a Camelot code."""

    bpm = serializers.FloatField(
        min_value=BPM_MIN, max_value=BPM_MAX, allow_null=True, required=False
    )
    key = serializers.CharField(
        allow_null=True,
        required=False,
        max_length=20,
        help_text="C, F#, Bb, Am, F minor or a Camelot code (8A); null for no key. "
        "Answers always carry the note name (C .. B, sharps) and `mode` apart.",
    )
    mode = serializers.ChoiceField(choices=MODE_CHOICES, allow_null=True, required=False)
    label = serializers.SerializerMethodField(help_text='For people: "124 BPM, F minor".')
    camelot = serializers.SerializerMethodField(help_text="The key's Camelot code, e.g. 4A.")
    key_shifts = serializers.SerializerMethodField(
        help_text="Semitones to the project key from each pitch, by the sound's mode "
        '(`{"minor": {"C": -3, ...}, "major": {...}, "unknown": {...}}`, the render\'s rule); '
        "null without a key. The player bar shifts tonal sounds by it."
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="null until the project is first saved."
    )

    class Meta:
        model = ProjectSettings
        fields = (
            "bpm",
            "key",
            "mode",
            "matching",
            "pitch_drums",
            "label",
            "camelot",
            "key_shifts",
            "updated_at",
        )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("key"):
            attrs["key"], attrs["mode"] = read_key(attrs["key"], attrs.get("mode"))
        elif "key" in attrs:
            attrs["key"] = attrs["mode"] = None
        elif attrs.get("mode"):
            raise serializers.ValidationError({"mode": ["Send the key with its mode."]})
        return attrs

    def get_label(self, project: ProjectSettings) -> str:
        parts = []
        if project.bpm:
            parts.append(f"{project.bpm:g} BPM")
        if project.key:
            parts.append(f"{project.key} {project.mode or 'major'}")
        return ", ".join(parts) or "No tempo or key set"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_camelot(self, project: ProjectSettings) -> str | None:
        return camelot(project.key, project.mode or "major") if project.key else None

    @extend_schema_field(
        serializers.DictField(
            child=serializers.DictField(child=serializers.IntegerField()), allow_null=True
        )
    )
    def get_key_shifts(self, project: ProjectSettings) -> dict | None:
        return key_shifts(project.key, project.mode) if project.key else None


class RenderQuerySerializer(serializers.Serializer):
    """``?bpm=&key=&mode=&format=&pitch_drums=``; tempo and key default to your project's."""

    bpm = serializers.FloatField(
        min_value=BPM_MIN, max_value=BPM_MAX, required=False, help_text="Target tempo."
    )
    key = serializers.CharField(
        required=False, max_length=20, help_text="Target key: C, F#, Bb, Am, F minor or 8A."
    )
    mode = serializers.ChoiceField(choices=MODE_CHOICES, required=False)
    format = serializers.ChoiceField(choices=RenderFormat.choices, default=RenderFormat.WAV)
    pitch_drums = serializers.BooleanField(
        required=False, help_text="Pitch drums too (default: your project's setting, else no)."
    )

    def validate(self, attrs: dict) -> dict:
        if attrs.get("key"):
            attrs["key"], attrs["mode"] = read_key(attrs["key"], attrs.get("mode"))
        elif attrs.get("mode"):
            raise serializers.ValidationError({"mode": ["Send the key with its mode."]})
        return attrs


class RenderSerializer(serializers.ModelSerializer):
    """A render on its way (202) or failed; the file itself is the 200 answer."""

    url = serializers.SerializerMethodField(help_text="Ask again here for the file.")

    class Meta:
        model = Render
        fields = (
            "id",
            "status",
            "sample",
            "bpm",
            "key",
            "mode",
            "pitch_drums",
            "format",
            "tempo_ratio",
            "semitones",
            "notes",
            "duration",
            "size_bytes",
            "error",
            "url",
            "created_at",
            "finished_at",
        )

    def get_url(self, render: Render) -> str:
        return render_url(render)


def render_url(render: Render) -> str:
    query = {"format": render.format}
    if render.bpm is not None:
        query["bpm"] = f"{render.bpm:g}"
    if render.key:
        query["key"] = render.key
        query["mode"] = render.mode or "major"
    if render.pitch_drums:
        query["pitch_drums"] = "true"
    return f"{reverse('v1:audio-render', args=[render.sample_id])}?{urlencode(query)}"


class PadSampleSerializer(serializers.ModelSerializer):
    """A sample as a pad shows it."""

    root_note = serializers.SerializerMethodField()
    preview_url = serializers.SerializerMethodField()

    class Meta:
        model = Sample
        fields = (
            "id",
            "name",
            "category",
            "is_loop",
            "bpm",
            "key",
            "mode",
            "root_note",
            "duration",
            "preview_url",
        )

    def get_root_note(self, sample: Sample) -> str | None:
        return (sample.descriptors or {}).get("root_note")

    def get_preview_url(self, sample: Sample) -> str:
        return reverse("v1:audio-preview", args=[sample.pk])


class KitPadSerializer(serializers.ModelSerializer):
    pad = serializers.SerializerMethodField(help_text="1..16")
    note = serializers.IntegerField(read_only=True, help_text="The MIDI key that plays it.")
    sample = PadSampleSerializer(read_only=True)

    class Meta:
        model = KitPad
        fields = ("pad", "note", "sample")

    def get_pad(self, pad: KitPad) -> int:
        return pad.pad + 1


class KitSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()
    pad_count = serializers.IntegerField(read_only=True, default=0)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)

    class Meta:
        model = Kit
        fields = (
            "id",
            "name",
            "description",
            "visibility",
            "owner",
            "pad_count",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("created_at", "updated_at")

    def get_owner(self, kit: Kit) -> str:
        return kit.owner.display_name or kit.owner.email.split("@")[0]


class KitDetailSerializer(KitSerializer):
    pads = serializers.SerializerMethodField()

    class Meta(KitSerializer.Meta):
        fields = (*KitSerializer.Meta.fields, "pads")

    @extend_schema_field(KitPadSerializer(many=True))
    def get_pads(self, kit: Kit) -> list[dict]:
        return KitPadSerializer(self.context.get("pads", []), many=True).data


class PadAssignmentSerializer(serializers.Serializer):
    pad = serializers.IntegerField(min_value=1, max_value=PADS, help_text="1..16")
    sample_id = serializers.UUIDField(allow_null=True, help_text="null empties the pad.")


class KitPadsSerializer(serializers.Serializer):
    """Pads to set; pads not named keep their samples."""

    pads = PadAssignmentSerializer(many=True, allow_empty=False, max_length=PADS)

    def validate_pads(self, value: list[dict]) -> list[dict]:
        numbers = [item["pad"] for item in value]
        if len(numbers) != len(set(numbers)):
            raise serializers.ValidationError("Name each pad once.")
        return value

    def assignments(self) -> dict[int, object]:
        return {item["pad"] - 1: item["sample_id"] for item in self.validated_data["pads"]}


class SuggestionQuerySerializer(serializers.Serializer):
    seed = serializers.UUIDField(
        required=False, help_text="The sound to match; default: the kit's first pad."
    )
    per_category = serializers.IntegerField(min_value=1, max_value=10, default=3)


class SuggestionsSerializer(serializers.Serializer):
    seed = PadSampleSerializer()
    suggestions = serializers.DictField(
        child=PadSampleSerializer(many=True),
        help_text="kick, snare, hihat, clap, percussion, tom, cymbal: nearest first.",
    )


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=[
            ("sfz", "SFZ"),
            ("dspreset", "Decent Sampler"),
            ("adg", "Ableton Live 12 Drum Rack"),
            ("zip", "samples + JSON/CSV"),
        ],
        default="sfz",
    )


class SliceSerializer(serializers.ModelSerializer):
    sample = PadSampleSerializer(read_only=True)

    class Meta:
        model = Slice
        fields = ("index", "start", "end", "sample")


class SlicePointsSerializer(serializers.Serializer):
    points = serializers.ListField(
        child=serializers.FloatField(min_value=0, max_value=600),
        required=False,
        max_length=64,
        help_text="Cut points in seconds; default: the loop's onsets.",
    )


class SlicesSerializer(serializers.Serializer):
    points = serializers.ListField(
        child=serializers.FloatField(), help_text="Where the loop would be cut (seconds)."
    )
    slices = SliceSerializer(many=True, help_text="The slices kept so far, in order.")


class CollectionRenderSerializer(serializers.Serializer):
    """A collection's renders on their way (202)."""

    total = serializers.IntegerField(help_text="Analysed sounds in the collection.")
    ready = serializers.IntegerField()
    waiting = serializers.IntegerField()
    failed = serializers.IntegerField()
