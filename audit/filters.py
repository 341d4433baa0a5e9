"""The auditors' filters, shared by the entry list and the export: bad values are a 400
naming the field, never a 500 or a silently ignored filter."""

import django_filters
from django import forms
from django.db.models import Q

from audit.actions import ACTIONS, Outcome
from audit.models import AuditEntry
from workinggroup.models import Country

PAGING_PARAMETERS = ("cursor", "page_size")


class _AuditFilterForm(forms.Form):
    def clean_country(self):
        code = (self.cleaned_data.get("country") or "").strip().upper()
        if code and not Country.objects.filter(code=code).exists():
            raise forms.ValidationError(f"unknown country {code!r}")
        return code

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
