"""The auditors' filters, shared by the entry list and the export (API and pages alike): bad
values are a 400 naming the field, never a 500 or a silently ignored filter.

Messages never repeat the value given: django-filter formats a message with %-style
parameters, so a `%` in a repeated value would break it (`?country=%25s` was a 500).
"""

import datetime as dt
import re

import django_filters
from django import forms
from django.db.models import Q

from audit.actions import ACTIONS, Outcome
from audit.models import AuditEntry

PAGING_PARAMETERS = ("cursor", "page_size")
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
# PostgreSQL keeps offsets within +/-15:59 and refuses a timestamp with a wider one.
_MAX_OFFSET = dt.timedelta(hours=15, minutes=59)


def _offset_in_range(value):
    offset = value.utcoffset() if value is not None else None
    if offset is not None and abs(offset) > _MAX_OFFSET:
        raise forms.ValidationError("the time-zone offset must be within +/-15:59")
    return value


class _AuditFilterForm(forms.Form):
    def clean_country(self):
        # Checked for form, not looked up: audit sits below the working group's models. A
        # well-formed code of no country matches no entry, which never widens a query.
        code = (self.cleaned_data.get("country") or "").strip().upper()
        if code and not _COUNTRY_CODE.match(code):
            raise forms.ValidationError("not a country code (two letters, ISO 3166 alpha-2)")
        return code

    def clean_since(self):
        return _offset_in_range(self.cleaned_data.get("since"))

    def clean_until(self):
        return _offset_in_range(self.cleaned_data.get("until"))

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until <= since:
            self.add_error("until", "must be later than since")
        return cleaned


class AuditEntryFilter(django_filters.FilterSet):
    """actor, action, case, country (actor's or case's), outcome, since, until (occurred_at)."""

    actor = django_filters.CharFilter(field_name="actor", max_length=150)
    action = django_filters.ChoiceFilter(choices=[(a, a) for a in sorted(ACTIONS)])
    case = django_filters.UUIDFilter(field_name="case_id")
    country = django_filters.CharFilter(method="filter_country", max_length=2)
    outcome = django_filters.ChoiceFilter(choices=[(o, o) for o in Outcome.ALL])
    since = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEntry
        fields = []
        form = _AuditFilterForm

    def filter_country(self, queryset, name, value):
        return queryset.filter(Q(actor_country=value) | Q(case_country=value))


FILTER_NAMES = tuple(AuditEntryFilter.base_filters)


def applied_filters(query_params) -> dict[str, str]:
    """The filters an auditor used, as given, for the audit record of their view."""
    return {name: query_params[name] for name in FILTER_NAMES if query_params.get(name)}
