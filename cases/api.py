"""The case API (/api/v1/cases/...): thin views over cases.selectors and cases.services.

`CaseAPIView` enforces the rules once for every endpoint: only investigators and liaisons
read cases (auditors and administrators get 403 before any lookup, whatever the id), every
case comes through the gate (unseen, missing or malformed ids answer 404), answers are never
cached, and services' refusals and field errors become 403 and 400. Denials are audited by
the project's exception handler.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Q
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

import audit
from cases import permissions, selectors, services
from cases.models import Case, CaseStatus, CaseType
from cases.permissions import FULL, SUMMARY
from cases.serializers import (
    CaseDetailOutput,
    CaseInput,
    CaseOutput,
    CaseUpdateInput,
    SubjectInput,
    SubjectOutput,
)
from workinggroup.models import Country

MAX_QUERY_CHARS = 100


# --- Pagination ----------------------------------------------------------------------------


class _CountedPaginator(Paginator):
    """Django's paginator with the total supplied by the view (a cheaper exact count)."""

    def __init__(self, object_list, per_page, count_fn):
        super().__init__(object_list, per_page)
        self._count_fn = count_fn

    @cached_property
    def count(self):
        return self._count_fn()


class _IdPagedList:
    """A list as Django's paginator slices it: the window of an ordered id source (an
    index-only range), then those rows, in one query; deep pages skip no full rows."""

    def __init__(self, ids, rows):
        self.ids, self.rows = ids, rows

    def __getitem__(self, window: slice):
        return list(self.rows.filter(pk__in=self.ids[window]))


class CasePagination(PageNumberPagination):
    """Page numbers with count/next/previous/results; a page that is not a number is a 400."""

    page_size = 50
    last_page_strings = ()

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "1")
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 10**6):
            raise exceptions.ValidationError({"page": ["a page number from 1"]})
        self.request = request
        count_fn = getattr(view, "count", None)
        total = (lambda: count_fn(queryset)) if count_fn else queryset.count
        page_ids = getattr(view, "page_ids", None)
        rows = _IdPagedList(page_ids(queryset), queryset) if page_ids else queryset
        paginator = _CountedPaginator(rows, self.page_size, total)
        try:
            self.page = paginator.page(int(raw))
        except EmptyPage:  # beyond the last page
            raise exceptions.NotFound(self.invalid_page_message) from None
        return list(self.page)


# --- Filters -------------------------------------------------------------------------------


class CountryCodeField(forms.CharField):
    """A partner country's code, any case; unknown codes are a validation error."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return ""
        code = value.upper()
        if not (len(code) == 2 and code.isascii() and code.isalpha()) or not (
            Country.objects.filter(code=code).exists()
        ):
            raise forms.ValidationError(f"{value!r} is not a partner country code.")
        return code


class CountryCodeFilter(django_filters.CharFilter):
    field_class = CountryCodeField

    def filter(self, qs, value):
        return qs.filter(owner_country_id=value) if value else qs


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    case_type = django_filters.ChoiceFilter(choices=CaseType.choices)
    owner_country = CountryCodeFilter(max_length=2)
    q = django_filters.CharFilter(
        method="search", max_length=MAX_QUERY_CHARS, label="text in title, summary or reference"
    )

    class Meta:
        model = Case
        fields = ["status", "case_type", "owner_country", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(summary__icontains=value) | Q(reference__icontains=value)
        )


class CaseFilterBackend(DjangoFilterBackend):
    """django-filter, remembering on the view which filters were given (for audit and count)."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        view.active_filters = {
            name: value for name, value in filterset.form.cleaned_data.items()
            if value not in ("", None)
        }
        return filterset.qs


# --- Base view -----------------------------------------------------------------------------


def _refusal(user) -> str:
    roles = set(user.roles)
    if "auditor" in roles:
        return "auditors do not read case content"
    if "administrator" in roles or not user.country_id:
        return "administrators do not read case content"
    return "only investigators and liaisons read cases"


class CaseAPIView(GenericAPIView):
    """Base of every case endpoint: who may use it, the gate, and no caching."""

    scope = SUMMARY
    active_filters: dict = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication: 401 before anything else
        if not permissions.can_read_cases(request.user):
            raise exceptions.PermissionDenied(_refusal(request.user))

    def get_queryset(self):
        return selectors.visible_cases(self.request.user, self.scope)

    def get_case(self, scope: str = SUMMARY) -> Case:
        return selectors.get_case_for(self.request.user, self.kwargs["case_id"], scope)

    def require_editor(self, case: Case) -> None:
        if not permissions.can_edit_case(self.request.user, case):
            raise exceptions.PermissionDenied(
                "only the owner country's investigators change this case"
            )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


def _access(user, case: Case) -> str:
    """The caller's standing on a case: `owner`, or the scope their country holds."""
    if selectors.is_owner(user, case):
        return "owner"
    return permissions.scope_held(permissions.perms_of(user, case)) or "none"


# --- Endpoints -----------------------------------------------------------------------------


class CaseListCreate(CaseAPIView):
    """GET: the cases the caller's country holds, newest first. POST: open a case."""

    filter_backends = [CaseFilterBackend]
    filterset_class = CaseFilter
    pagination_class = CasePagination
    serializer_class = CaseOutput

    def count(self, queryset) -> int:
        if self.active_filters:
            return queryset.count()
        return selectors.visible_case_count(self.request.user, self.scope)

    def page_ids(self, queryset):
        """Where a page's ids come from: the grant index alone, unless filters need cases."""
        if self.active_filters:
            return queryset.values("pk")
        return selectors.visible_case_ids(self.request.user, self.scope)

    @extend_schema(responses=CaseOutput(many=True))
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = CaseOutput(page, many=True).data
        audit.record(
            "case.search", request.user, filters=self.active_filters,
            page=self.paginator.page.number, count=self.paginator.page.paginator.count,
        )
        return self.get_paginated_response(data)

    @extend_schema(request=CaseInput, responses={201: CaseDetailOutput})
    def post(self, request, *args, **kwargs):
        if not permissions.can_create_case(request.user):
            raise exceptions.PermissionDenied("only investigators create cases")
        serializer = CaseInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.case_create(actor=request.user, **serializer.validated_data)
        data = CaseDetailOutput(case, context={"access": "owner"}).data
        return Response(data, status=status.HTTP_201_CREATED)


CASE_ID = OpenApiParameter("case_id", str, OpenApiParameter.PATH, description="case UUID")


@extend_schema(parameters=[CASE_ID])
class CaseDetail(CaseAPIView):
    """GET: one case, audited as case.view. PATCH: the owner country's investigators edit it."""

    serializer_class = CaseDetailOutput

    @extend_schema(responses=CaseDetailOutput)
    def get(self, request, *args, **kwargs):
        case = self.get_case()
        access = _access(request.user, case)
        audit.record("case.view", request.user, target=case, access=access)
        return Response(CaseDetailOutput(case, context={"access": access}).data)

    @extend_schema(request=CaseUpdateInput, responses=CaseDetailOutput)
    def patch(self, request, *args, **kwargs):
        case = self.get_case()
        self.require_editor(case)  # 403 before looking at the body
        serializer = CaseUpdateInput(instance=case, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        case = services.case_update(case=case, actor=request.user, **serializer.validated_data)
        return Response(CaseDetailOutput(case, context={"access": "owner"}).data)


@extend_schema(parameters=[CASE_ID])
class CaseSubjects(CaseAPIView):
    """GET: a case's subjects with identifiers (full scope; partners never get victims or
    witnesses a share does not name). POST: the owner country's investigators add one."""

    pagination_class = CasePagination
    serializer_class = SubjectOutput
    scope = FULL

    @extend_schema(responses=SubjectOutput(many=True))
    def get(self, request, *args, **kwargs):
        case = self.get_case(SUMMARY)
        if permissions.scope_held(permissions.perms_of(request.user, case)) in (None, SUMMARY):
            raise exceptions.PermissionDenied("subjects need the full scope on this case")
        subjects = selectors.visible_subjects(request.user, case).prefetch_related("identifiers")
        page = self.paginate_queryset(subjects)
        audit.record(
            "subject.view", request.user, target=case, page=self.paginator.page.number,
            count=self.paginator.page.paginator.count,
        )
        return self.get_paginated_response(SubjectOutput(page, many=True).data)

    @extend_schema(request=SubjectInput, responses={201: SubjectOutput})
    def post(self, request, *args, **kwargs):
        case = self.get_case(SUMMARY)
        self.require_editor(case)
        serializer = SubjectInput(
            data=request.data, context={"default_region": case.owner_country_id}
        )
        serializer.is_valid(raise_exception=True)
        subject = services.subject_add(case=case, actor=request.user, **serializer.validated_data)
        subject = type(subject).objects.prefetch_related("identifiers").get(pk=subject.pk)
        return Response(SubjectOutput(subject).data, status=status.HTTP_201_CREATED)
