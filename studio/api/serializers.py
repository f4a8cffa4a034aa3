"""Studio API serializers: validation and output only; writes go through services."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from rest_framework import serializers

from library.models import MODE_CHOICES
from search.keys import UnknownKey, camelot, parse_key
from studio.models import BPM_MAX, BPM_MIN, ProjectSettings, Render, RenderFormat


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

    class Meta:
        model = ProjectSettings
        fields = ("bpm", "key", "mode", "matching", "pitch_drums", "label", "camelot", "updated_at")
        read_only_fields = ("updated_at",)

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

    def get_camelot(self, project: ProjectSettings) -> str | None:
        return camelot(project.key, project.mode or "major") if project.key else None


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
