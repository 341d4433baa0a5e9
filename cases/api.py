"""The case API (/api/v1/cases/...): thin views over cases.selectors and cases.services.

Every rule is the domain's: the gate (auditors and administrators 403, unseen 404, below the
scope 403), the filters and paging (cases.listing), the audit records of reads (the
selectors write them) and the refusals of writes (the services). A view parses, calls one
selector or service and renders; answers are never cached. Errors become JSON once, in
workinggroup/exceptions.py.
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from cases import listing, selectors, services
from cases.paging import Page
from cases.serializers import (
    CaseDetailOutput,
    CaseInput,
    CaseOutput,
    CaseUpdateInput,
    IdentifiersInput,
    SubjectInput,
    SubjectOutput,
    SubjectUpdateInput,
)
from workinggroup.query_api import refuse_empty_values


def page_response(request, page: Page, data) -> Response:
    """A Page as `{count, next, previous, results}`, the links carrying the same query."""
    url = request.build_absolute_uri()
    next_url = replace_query_param(url, "page", page.number + 1) if page.has_next else None
    previous = None
    if page.has_previous:
        previous = (remove_query_param(url, "page") if page.number == 2
                    else replace_query_param(url, "page", page.number - 1))
    return Response({"count": page.count, "next": next_url, "previous": previous,
                     "results": data})


class CaseAPIView(GenericAPIView):
    """Base of every case endpoint: the domain decides, the answer is never cached."""

    def get_queryset(self):
        return selectors.visible_cases(self.request.user)  # for the schema only

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class CaseListCreate(CaseAPIView):
    """GET: the cases the caller's country holds, newest first. POST: open a case."""

    # For the OpenAPI schema's query parameters; the filtering itself is cases.listing's.
    filter_backends = [DjangoFilterBackend]
    filterset_class = listing.CaseFilter
    serializer_class = CaseOutput

    def list_page(self, request) -> Page:
        return listing.case_list(request.user, params=request.query_params)

    @extend_schema(
        responses=CaseOutput(many=True),
        parameters=[OpenApiParameter("page", int, description="page number, from 1")],
    )
    def get(self, request, *args, **kwargs):
        refuse_empty_values(request.query_params)
        page = self.list_page(request)
        return page_response(request, page, CaseOutput(page.items, many=True).data)

    @extend_schema(request=CaseInput, responses={201: CaseDetailOutput})
    def post(self, request, *args, **kwargs):
        services.require_case_creator(request.user)  # 403 before looking at the body
        serializer = CaseInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.case_create(actor=request.user, **serializer.validated_data)
        return Response(CaseDetailOutput(case).data, status=status.HTTP_201_CREATED)


CASE_ID = OpenApiParameter("case_id", str, OpenApiParameter.PATH, description="case UUID")
SUBJECT_ID = OpenApiParameter("subject_id", str, OpenApiParameter.PATH,
                              description="subject UUID")


@extend_schema(parameters=[CASE_ID])
class CaseDetail(CaseAPIView):
    """GET: one case, audited as case.view. PATCH: the owner country's investigators edit it."""

    serializer_class = CaseDetailOutput

    @extend_schema(responses=CaseDetailOutput)
    def get(self, request, case_id):
        return Response(CaseDetailOutput(selectors.case_detail(request.user, case_id)).data)

    @extend_schema(request=CaseUpdateInput, responses=CaseDetailOutput)
    def patch(self, request, case_id):
        case = selectors.case_for_edit(request.user, case_id)  # 403 before looking at the body
        serializer = CaseUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.case_update(case=case, actor=request.user, **serializer.validated_data)
        return Response(CaseDetailOutput(case).data)


@extend_schema(parameters=[CASE_ID])
class CaseSubjects(CaseAPIView):
    """GET: a case's subjects with identifiers (full scope; partners never get victims or
    witnesses a share does not name). POST: the owner country's investigators add one."""

    serializer_class = SubjectOutput

    @extend_schema(
        responses=SubjectOutput(many=True),
        parameters=[OpenApiParameter("page", int, description="page number, from 1")],
    )
    def get(self, request, case_id):
        refuse_empty_values(request.query_params)
        page = selectors.subject_list(request.user, case_id, page=request.query_params.get("page"))
        return page_response(request, page, SubjectOutput(page.items, many=True).data)

    @extend_schema(request=SubjectInput, responses={201: SubjectOutput})
    def post(self, request, case_id):
        case = selectors.case_for_edit(request.user, case_id)
        serializer = SubjectInput(
            data=request.data, context={"default_region": case.owner_country_id}
        )
        serializer.is_valid(raise_exception=True)
        subject = services.subject_add(case=case, actor=request.user, **serializer.validated_data)
        return Response(SubjectOutput(selectors.subject_with_identifiers(subject)).data,
                        status=status.HTTP_201_CREATED)


@extend_schema(parameters=[CASE_ID, SUBJECT_ID])
class SubjectDetail(CaseAPIView):
    """PATCH: the owner country's investigators edit a subject (audited as subject.update)."""

    serializer_class = SubjectOutput
    http_method_names = ["patch", "options"]

    @extend_schema(request=SubjectUpdateInput, responses=SubjectOutput)
    def patch(self, request, case_id, subject_id):
        subject = selectors.subject_for_edit(request.user, case_id, subject_id)
        serializer = SubjectUpdateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        subject = services.subject_update(
            subject=subject, actor=request.user, **serializer.validated_data
        )
        return Response(SubjectOutput(selectors.subject_with_identifiers(subject)).data)


@extend_schema(parameters=[CASE_ID, SUBJECT_ID])
class SubjectIdentifiers(CaseAPIView):
    """POST: add identifiers to a subject (owner country's investigators; identifier.add)."""

    serializer_class = SubjectOutput
    http_method_names = ["post", "options"]

    @extend_schema(request=IdentifiersInput, responses={201: SubjectOutput})
    def post(self, request, case_id, subject_id):
        subject = selectors.subject_for_edit(request.user, case_id, subject_id)
        serializer = IdentifiersInput(
            data=request.data, context={"default_region": subject.case.owner_country_id}
        )
        serializer.is_valid(raise_exception=True)
        subject = services.identifier_add(
            subject=subject, actor=request.user, **serializer.validated_data
        )
        return Response(SubjectOutput(selectors.subject_with_identifiers(subject)).data,
                        status=status.HTTP_201_CREATED)
