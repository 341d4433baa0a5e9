"""Page forms: they parse what a member typed into the arguments of a service call.

No rule lives here. Field types and choices only turn text into values (a date, a code
from a closed list); whether the values are acceptable is the service's answer, and its
ValidationError is put beside the field it names (`add_service_errors`).
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from cases.identifiers import IdentifierType
from cases.models import (
    CaseStatus,
    CaseType,
    HandlingCode,
    InformationAssessment,
    SourceReliability,
    SubjectRole,
)
from sharing.models import DEFAULT_SHARE_DAYS, MAX_SHARE_DAYS, ShareScope
from web.labels import IDENTIFIER_TYPE_LABELS, country_name

IDENTIFIER_ROWS = 4  # empty identifier rows on a subject form (no script needed to add one)


def _choices(blank_label=None, choices=()):
    return ([("", blank_label)] if blank_label is not None else []) + list(choices)


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as ISO 8601 whatever the language."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CaseForm(forms.Form):
    """Open or edit a case: the fields of cases.services.case_create / case_update."""

    title = forms.CharField(label=_("Title"), max_length=200)
    case_type = forms.ChoiceField(label=_("Case type"), choices=CaseType.choices)
    status = forms.ChoiceField(label=_("Status"), choices=CaseStatus.choices)
    summary = forms.CharField(label=_("Summary"), required=False,
                              widget=forms.Textarea(attrs={"rows": 6}))
    handling_code = forms.ChoiceField(label=_("Handling code"), choices=HandlingCode.choices)
    handling_note = forms.CharField(
        label=_("Handling restriction"), required=False, max_length=500,
        help_text=_("Required with H3: state the restriction."),
    )
    source_reliability = forms.ChoiceField(label=_("Source reliability"),
                                           choices=SourceReliability.choices,
                                           initial=SourceReliability.X)
    information_assessment = forms.ChoiceField(label=_("Information assessment"),
                                               choices=InformationAssessment.choices,
                                               initial=InformationAssessment.UNCONFIRMED)

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            del self.fields["status"]  # a new case is open


def _aliases(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class SubjectForm(forms.Form):
    """A subject (cases.services.subject_add) without its identifiers (IdentifierFormSet)."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=_choices("", SubjectRole.choices))
    aliases = forms.CharField(
        label=_("Aliases"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One name per line."),
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False,
                                    widget=DateInput())
    nationality = forms.CharField(
        label=_("Nationality"), required=False, max_length=2,
        help_text=_("Two-letter country code, for example MX."),
    )
    source_reliability = forms.ChoiceField(label=_("Source reliability"),
                                           choices=SourceReliability.choices,
                                           initial=SourceReliability.X)
    information_assessment = forms.ChoiceField(label=_("Information assessment"),
                                               choices=InformationAssessment.choices,
                                               initial=InformationAssessment.UNCONFIRMED)

    def clean_aliases(self):
        return _aliases(self.cleaned_data["aliases"])


class IdentifierForm(forms.Form):
    """One identifier row: a row with no value is left out."""

    identifier_type = forms.ChoiceField(
        label=_("Identifier type"),
        choices=[(t.value, IDENTIFIER_TYPE_LABELS[t]) for t in IdentifierType
                 if t != IdentifierType.NAME_DOB],
    )
    value = forms.CharField(label=_("Value"), required=False, max_length=256)


IdentifierFormSet = forms.formset_factory(IdentifierForm, extra=IDENTIFIER_ROWS, max_num=50)


def identifier_rows(formset) -> list[tuple[int, dict]]:
    """(row number, {identifier_type, value}) of the rows that carry a value."""
    return [
        (index, {"identifier_type": f.cleaned_data["identifier_type"],
                 "value": f.cleaned_data["value"]})
        for index, f in enumerate(formset.forms)
        if f.cleaned_data.get("value")
    ]


def default_expiry() -> datetime.date:
    return (timezone.now() + datetime.timedelta(days=DEFAULT_SHARE_DAYS)).date()


class ExpiryField(forms.DateField):
    """A day: the share ends as that day begins (00:00 UTC)."""

    widget = DateInput

    def to_python(self, value):
        day = super().to_python(value)
        if day is None:
            return None
        return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


class ShareForm(forms.Form):
    """Scope, justification and expiry of a share request (offer or ask)."""

    scope = forms.ChoiceField(label=_("Scope"), choices=ShareScope.choices,
                              initial=ShareScope.SUMMARY, widget=forms.RadioSelect)
    justification = forms.CharField(label=_("Justification"), max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 4}))
    expires_at = ExpiryField(label=_("Expires on"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service's bounds and default, as of this request (not of start-up).
        now, field = timezone.now(), self.fields["expires_at"]
        field.initial = default_expiry()
        field.help_text = _("At most %(days)s days from today; %(default)s days unless you "
                            "choose otherwise.") % {"days": MAX_SHARE_DAYS,
                                                    "default": DEFAULT_SHARE_DAYS}
        field.widget.attrs.update({
            "min": (now + datetime.timedelta(days=1)).date().isoformat(),
            "max": (now + datetime.timedelta(days=MAX_SHARE_DAYS)).date().isoformat(),
        })


class CountryCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes of which some are shown but cannot be checked (`unavailable` values)."""

    unavailable: frozenset = frozenset()

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value in self.unavailable:
            option["attrs"]["disabled"] = True
        return option


class OfferForm(ShareForm):
    """The owner offering a case to one or several partner countries at once (one request
    each, all or none: sharing.services.share_requests_offer). A country whose request for
    the case awaits its decision is shown but cannot be checked; the service refuses it."""

    recipient_countries = forms.MultipleChoiceField(
        label=_("Partner countries"), widget=CountryCheckboxes,
        error_messages={"required": _("Check at least one partner country.")},
        help_text=_("Each country gets its own request, decided and ended on its own; no "
                    "partner learns which other countries were offered the case."),
    )
    field_order = ["recipient_countries", "scope", "justification", "expires_at"]

    def __init__(self, *args, countries=(), awaiting=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["recipient_countries"]
        field.choices = [(c.code, self._country_label(c, awaiting)) for c in countries]
        field.widget.unavailable = frozenset(awaiting)
        self.fields["justification"].help_text = _(
            "Every country checked reads it: do not name the others.")

    @staticmethod
    def _country_label(country, awaiting) -> str:
        label = f"{country.code}: {country_name(country)}"
        if country.code in awaiting:
            return _("%(country)s (its request awaits a decision)") % {"country": label}
        return label


class RenewForm(forms.Form):
    """Ask to renew a share before it expires: a new justification and a later expiry."""

    justification = forms.CharField(label=_("Justification"), max_length=2000,
                                    widget=forms.Textarea(attrs={"rows": 4}),
                                    help_text=_("Why the partner still needs the case."))
    expires_at = ExpiryField(label=_("New expiry"))

    def __init__(self, *args, grant=None, **kwargs):
        super().__init__(*args, **kwargs)
        now, field = timezone.now(), self.fields["expires_at"]
        field.help_text = _("Later than the current expiry (%(current)s), at most %(days)s "
                            "days from today.") % {
            "current": date_format(grant.expires_at, "DATE_FORMAT") if grant else "",
            "days": MAX_SHARE_DAYS}
        field.widget.attrs.update({
            "min": (now + datetime.timedelta(days=1)).date().isoformat(),
            "max": (now + datetime.timedelta(days=MAX_SHARE_DAYS)).date().isoformat(),
        })


class AskForm(ShareForm):
    """A partner asking for the cases behind a lookup hit."""

    hit_id = forms.UUIDField(widget=forms.HiddenInput)


class LookupForm(forms.Form):
    """Identifier type and value for a hit/no-hit lookup."""

    identifier_type = forms.ChoiceField(
        label=_("Identifier type"),
        choices=[(t.value, IDENTIFIER_TYPE_LABELS[t]) for t in IdentifierType],
    )
    value = forms.CharField(
        label=_("Value"), max_length=256,
        help_text=_("For name and date of birth: the name, then the date as YYYY-MM-DD."),
    )


class CaseSearchForm(forms.Form):
    """The case list's search and filters, all in the URL so a list can be bookmarked."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        help_text=_("Title, summary, reference or a subject's name or alias."))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=_choices(_("Any"), CaseStatus.choices))
    case_type = forms.ChoiceField(label=_("Case type"), required=False,
                                  choices=_choices(_("Any"), CaseType.choices))
    owner_country = forms.ChoiceField(label=_("Owner country"), required=False)
    handling_code = forms.ChoiceField(label=_("Handling code"), required=False,
                                      choices=_choices(_("Any"), HandlingCode.choices))

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_country"].choices = _choices(
            _("Any"), [(c.code, f"{c.code}: {country_name(c)}") for c in countries])

    def filters(self) -> dict:
        """The filters given, without empty ones (call after is_valid)."""
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}


def add_service_errors(form, error: ValidationError, *, prefix_map=None) -> None:
    """Put a service's ValidationError beside the fields it names (others go on top).

    `prefix_map` maps a service field name to (form, field) when the error belongs to
    another form on the page (an identifier row: "identifiers.2.value").
    """
    prefix_map = prefix_map or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target, field = prefix_map.get(name, (form, name))
        messages = [m for e in errors for m in e.messages]
        if field in target.fields:
            target.add_error(field, messages)
        else:
            form.add_error(None, messages)
