"""The dashboard's forms: the filters (a GET form, so every view of it has its own URL) and
the statistics members' CSV upload."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.codes import CITIZENSHIPS, BorderSegment, Demographic, EventType, citizenship_name
from dashboard.selectors import FlowFilter, default_filter
from workinggroup.models import Country

ALL = [("", _("All"))]


class MonthField(forms.CharField):
    """YYYY-MM (what <input type="month"> sends), as the month's first day."""

    widget = forms.TextInput(attrs={"type": "month", "pattern": r"\d{4}-\d{2}",
                                    "placeholder": "YYYY-MM"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            year, month = value.split("-")
            return dt.date(int(year), int(month), 1)
        except ValueError:
            raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None


def _citizenship_choices():
    codes = sorted(CITIZENSHIPS, key=lambda code: citizenship_name(code))
    return ALL + [(code, f"{citizenship_name(code)} ({code})") for code in codes]


class FilterForm(forms.Form):
    """Month range, reporting country, border segment, citizenship, demographic, event type."""

    month_from = MonthField(label=_("From month"), required=False)
    month_to = MonthField(label=_("To month"), required=False)
    country = forms.ChoiceField(label=_("Reporting country"), required=False)
    segment = forms.ChoiceField(label=_("Border segment"), required=False,
                                choices=ALL + BorderSegment.choices)
    citizenship = forms.ChoiceField(label=_("Citizenship"), required=False)
    demographic = forms.ChoiceField(label=_("Demographic"), required=False,
                                    choices=ALL + Demographic.choices)
    event_type = forms.ChoiceField(label=_("Event type"), required=False,
                                   choices=ALL + EventType.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = ALL + [(c, c) for c in
                                                Country.objects.values_list("code", flat=True)]
        self.fields["citizenship"].choices = _citizenship_choices()

    def clean(self):
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start and end and start > end:
            self.add_error("month_to", _("The last month comes before the first."))
        if start and end and (end.year - start.year) * 12 + end.month - start.month >= 120:
            self.add_error("month_from", _("Choose at most ten years."))
        return data

    def flow_filter(self, today: dt.date, *, publication: bool = False) -> FlowFilter:
        """The filter the form asks for; the defaults (24 months to this one) where it is
        empty or wrong, so a bad URL still shows a page, with its errors."""
        default = default_filter(today)
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        month_to = data.get("month_to") or default.month_to
        month_from = data.get("month_from")
        if month_from is None:
            year, month = divmod(month_to.year * 12 + month_to.month - 1 - 23, 12)
            month_from = dt.date(year, month + 1, 1)

        def one(name):
            return (data[name],) if data.get(name) else ()

        return FlowFilter(month_from=month_from, month_to=month_to, countries=one("country"),
                          segments=one("segment"), citizenships=one("citizenship"),
                          demographics=one("demographic"), event_types=one("event_type"),
                          publication=publication)


class FlowUploadForm(forms.Form):
    """One CSV file of the member's country's figures."""

    file = forms.FileField(
        label=_("CSV file of your country's flow figures"),
        help_text=_("UTF-8, comma or semicolon separated, with the header "
                    "month,reporting_country,border_segment,location,citizenship,demographic,"
                    "event_type,count. It replaces your country's figures for the months it "
                    "covers."),
    )
