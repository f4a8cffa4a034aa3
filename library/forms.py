"""Forms for the library pages: editing a sample, creating and filling collections."""

from django import forms

from library.models import Visibility


class SampleEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    tags = forms.CharField(required=False, help_text="Separate tags with commas.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(choices=Visibility.choices)


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
}


VIEWS = {"list": "List", "grid": "Grid"}


class LibraryFilterForm(forms.Form):
    """The library page's own parameters; the descriptor filters are the API's SampleFilter."""

    q = forms.CharField(required=False, label="Name or tag")
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False)
    view = forms.ChoiceField(choices=list(VIEWS.items()), required=False)
