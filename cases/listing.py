"""The case list: filters, search and paging, for the API and the pages alike.

`case_list(user, params=...)` is the one way to list cases: the gate (role and country),
the filters (`status`, `case_type`, `owner_country`, `handling_code`, `q`; anything else is
refused by name), a page of 50 and the `case.search` audit record. Its speed comes from the
grant index (docs/PERFORMANCE.md, "Case list"): without filters, the count and a page's ids are read
from the (group, permission, case) index alone and only that page's rows are fetched; with
filters, the filtered rows are counted and paged by id.
"""

from __future__ import annotations

from collections.abc import Mapping

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

import audit
from cases.models import Case, CaseStatus, CaseType, HandlingCode, Subject
from cases.paging import Page, paginate, refuse_unknown_parameters
from cases.permissions import SUMMARY
from cases.selectors import (
    require_case_reader,
    subjects_visible_to,
    visible_case_count,
    visible_case_ids,
    visible_cases,
)
from workinggroup.models import clean_country_code

MAX_QUERY_CHARS = 100
# Characters that are JSON syntax in the stored alias lists: a search containing one would
# match every list rather than a name, so aliases are searched only without them.
_JSON_SYNTAX = frozenset('"[],\\')


class CountryCodeField(forms.CharField):
    """A partner country's code, any case; unknown codes are a validation error."""

    def clean(self, value):
        value = super().clean(value)
        return clean_country_code(value) if value else ""


class CountryCodeFilter(django_filters.CharFilter):
    """Filters on a partner country's code (the case list's and the share requests')."""

    field_class = CountryCodeField
    partner_country = True  # the schema's enum of partner codes (workinggroup.schema_api)


class CaseFilter(django_filters.FilterSet):
    """The case list's filters; `q` searches titles, summaries, references and the names and
    aliases of the subjects the member may see (never a partner's withheld victim)."""

    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    case_type = django_filters.ChoiceFilter(choices=CaseType.choices)
    owner_country = CountryCodeFilter(field_name="owner_country_id", max_length=2)
    handling_code = django_filters.ChoiceFilter(choices=HandlingCode.choices)
    q = django_filters.CharFilter(
        method="search", max_length=MAX_QUERY_CHARS,
        label=_("text in title, summary, reference or a subject's name or alias"),
    )

    class Meta:
        model = Case
        fields = ["status", "case_type", "owner_country", "handling_code", "q"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        names = Q(full_name__icontains=value)
        if not _JSON_SYNTAX & set(value):
            names |= Q(aliases__icontains=value)
        text = Q(title__icontains=value) | Q(summary__icontains=value) | Q(
            reference__icontains=value)
        # The cases of matching subjects first, as literal ids: an OR with a sub-select would
        # keep PostgreSQL from answering the text part from its trigram indexes (a full scan
        # of every case; docs/PERFORMANCE.md, "Case list").
        by_subject = set(
            Subject.objects.filter(names, subjects_visible_to(self.user))
            .values_list("case_id", flat=True)
        )
        return queryset.filter(text | Q(pk__in=by_subject) if by_subject else text)


PARAMETERS = frozenset({*CaseFilter.base_filters, "page"})


def case_list(user, *, params: Mapping, scope: str = SUMMARY) -> Page:
    """A page of the cases the user may read, filtered; recorded as `case.search`.

    `params` is the query string (request.GET or the API's query_params): the filters and
    `page`. Bad values and unknown names are a ValidationError naming each parameter.
    """
    require_case_reader(user)
    return _case_page(
        user, params, rows=visible_cases(user, scope),
        count=lambda: visible_case_count(user, scope),
        ids=lambda: visible_case_ids(user, scope),
    )


def _case_page(user, params: Mapping, *, rows, count, ids) -> Page:
    """Filter and page `rows`; unfiltered, `count` and `ids` give the total and a page's ids
    from the grant index (bench/case_list.py passes the ungated table to compare)."""
    refuse_unknown_parameters(params, PARAMETERS)
    filterset = CaseFilter(data=params, queryset=rows, user=user)
    if not filterset.is_valid():
        raise ValidationError(
            {name: list(messages) for name, messages in filterset.errors.items()}
        )
    filters = {
        name: value for name, value in filterset.form.cleaned_data.items()
        if value not in ("", None)
    }
    page = params.get("page")
    if filters:
        filtered = filterset.qs
        result = paginate(filtered, page, ids=filtered.values("pk"), filters=filters)
    else:
        result = paginate(rows, page, count=count, ids=ids(), filters=filters)
    audit.record("case.search", user, filters=filters, page=result.number, count=result.count)
    return result
