"""Forms for the studio's pages."""

from django import forms

from library.models import Visibility


class KitForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    visibility = forms.ChoiceField(choices=Visibility.choices, initial=Visibility.PRIVATE)
