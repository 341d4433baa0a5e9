"""Sign-in and account forms. Labels are translated; nothing here touches the database."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    """Username and password. A refused form is never re-filled: every refusal looks alike."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    """The six-digit code from the member's authenticator app."""

    code = forms.CharField(
        label=_("Six-digit code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class TokenCreateForm(forms.Form):
    """A new API token: a name to recognise it by and how many hours it lives."""

    name = forms.CharField(label=_("Name"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here, not at import, so the limits follow the settings in force.
        self.fields["hours"] = forms.IntegerField(
            label=_("Valid for (hours)"),
            min_value=1,
            max_value=settings.API_TOKEN_MAX_HOURS,
            initial=settings.API_TOKEN_DEFAULT_HOURS,
        )
