"""Loop -> MIDI under /api/v1/: a bass or lead loop's notes as a ``.mid`` file."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.permissions import Allowed
from library import selectors as library_selectors
from library.analysis import AudioDecodeError
from library.errors import FileMissing
from samplemind.openapi import ErrorSerializer
from studio.errors import NotTranscribable
from studio.services.midi import loop_midi


class MidiQuerySerializer(serializers.Serializer):
    any = serializers.BooleanField(
        default=False,
        help_text="Try a loop outside the bass and lead categories (never a drum loop).",
    )


def midi_filename(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in " -_#" else "_" for c in name).strip()
    return f"{stem[:80] or 'loop'}.mid"


class LoopMidiView(APIView):
    """The loop's notes as a Standard MIDI File (type 0, at the loop's tempo).

    Made for monophonic bass and lead loops (categories bass and synth): one
    note at a time, onsets within about 20 ms. Other tonal loops with
    ``any=1``; one-shots, drum loops and loops over 60 seconds get 422.
    Transcribed by Spotify's Basic Pitch model (Apache-2.0) on this server.
    """

    permission_classes = [Allowed("audio:download")]

    @extend_schema(
        parameters=[MidiQuerySerializer],
        responses={
            (200, "audio/midi"): OpenApiTypes.BINARY,
            409: OpenApiResponse(ErrorSerializer, description="The sample is not analysed yet."),
            422: OpenApiResponse(
                ErrorSerializer,
                description="Not a melodic loop: a one-shot, a drum loop or too long.",
            ),
        },
    )
    def get(self, request: Request, pk) -> HttpResponse:
        sample = get_object_or_404(library_selectors.samples_visible(user=request.user), pk=pk)
        query = MidiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            data = loop_midi(sample=sample, any_loop=query.validated_data["any"])
        except FileNotFoundError as exc:
            raise FileMissing("This sample's audio file is missing.") from exc
        except AudioDecodeError as exc:
            raise NotTranscribable(str(exc)) from exc
        response = HttpResponse(data, content_type="audio/midi")
        response["Content-Disposition"] = content_disposition_header(
            True, midi_filename(sample.name)
        )
        return response
