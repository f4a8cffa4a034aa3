"""Forms for the library pages: editing a sample, creating and filling collections."""

from django import forms

from library.models import CATEGORY_CHOICES, CORRECTABLE, KEY_CHOICES, MODE_CHOICES, Visibility
from library.services.corrections import BPM_MAX, BPM_MIN


class SampleEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    tags = forms.CharField(required=False, help_text="Separate tags with commas.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(choices=Visibility.choices)


class SampleCorrectionForm(forms.Form):
    """The producer's values; a field left blank shows the analyser's reading."""

    ANALYSER = [("", "As analysed")]

    category = forms.ChoiceField(choices=ANALYSER + CATEGORY_CHOICES, required=False)
    is_loop = forms.TypedChoiceField(
        label="Loop or one-shot",
        choices=[*ANALYSER, ("true", "Loop"), ("false", "One-shot")],
        coerce=lambda value: value == "true",
        empty_value=None,
        required=False,
    )
    bpm = forms.FloatField(
        label="Tempo (BPM)", min_value=BPM_MIN, max_value=BPM_MAX, required=False
    )
    key = forms.ChoiceField(choices=ANALYSER + KEY_CHOICES, required=False)
    mode = forms.ChoiceField(choices=ANALYSER + MODE_CHOICES, required=False)

    @classmethod
    def initial_for(cls, corrections: dict) -> dict:
        values = {field: corrections.get(field) for field in CORRECTABLE}
        if values["is_loop"] is not None:
            values["is_loop"] = "true" if values["is_loop"] else "false"
        return {field: value for field, value in values.items() if value is not None}

    def corrections(self) -> tuple[dict, list[str]]:
        """What to set, and which fields to give back to the analyser (left blank)."""
        data = self.cleaned_data
        changes = {f: data[f] for f in CORRECTABLE if data.get(f) not in (None, "")}
        return changes, [f for f in CORRECTABLE if f not in changes]


class CollectionForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PRIVATE)


class AddToCollectionForm(forms.Form):
    collection = forms.TypedChoiceField(coerce=int, label="Add to collection")

    def __init__(self, *args, collections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = [(c.pk, c.name) for c in collections]


SORTS = {
    "-created_at": "Newest",
    "name": "Name",
    "bpm": "BPM",
    "duration": "Duration",
    "-loudness_lufs": "Loudest",
    # Your own marks, annotated by library.selectors.sample_list.
    "-my_rating": "Most stars",
    "-my_favourite": "Favourites first",
}


VIEWS = {"list": "List", "grid": "Grid"}


class LibraryFilterForm(forms.Form):
    """The library page's own parameters; the descriptor filters are the API's SampleFilter."""

    q = forms.CharField(required=False, label="Name or tag")
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False)
    view = forms.ChoiceField(choices=list(VIEWS.items()), required=False)
