"""Forms for the studio's pages."""

from django import forms

from library.models import Visibility
from search.keys import UnknownKey, parse_key


class KitForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PRIVATE)


class ProjectForm(forms.Form):
    """The project tempo and key, as the pages take them (the key as people write it)."""

    bpm = forms.FloatField(required=False, min_value=20, max_value=400, label="Tempo (BPM)")
    key = forms.CharField(required=False, max_length=20, help_text="C, F#, Bb, Am, F minor or 8A")
    matching = forms.BooleanField(
        required=False, label="Match: drags and renders at this tempo and key"
    )
    pitch_drums = forms.BooleanField(required=False, label="Pitch drums too")

    def clean_key(self) -> tuple[str | None, str | None]:
        text = (self.cleaned_data.get("key") or "").strip()
        if not text:
            return None, None
        try:
            pitch, mode = parse_key(text)
        except UnknownKey as exc:
            raise forms.ValidationError(str(exc)) from None
        return pitch, mode or "major"
