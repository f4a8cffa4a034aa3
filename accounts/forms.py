"""Forms for account pages."""

from django import forms

from samplemind.text import plain_text


class SignupForm(forms.Form):
    """Extra sign-up field for allauth's form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    display_name = forms.CharField(
        max_length=150,
        required=False,
        label="Display name",
        help_text="How other producers see you; optional.",
    )

    def signup(self, request, user) -> None:
        user.display_name = plain_text(self.cleaned_data.get("display_name", ""))[:150]
        user.save(update_fields=["display_name"])
