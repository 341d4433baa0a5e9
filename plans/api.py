"""The joint-operations API (/api/v1/plans/, tasks, gaps): thin views over plans.selectors
and plans.services. Every read comes through a gate (403 for auditors and administrators,
404 for what the caller's country does not take part in); refusals are audited by the
project's exception handler.
"""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation, ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from audit.models import AuditEntry
from cases.attachment_api import (
    DOWNLOAD_RESPONSES,
    UPLOAD_REQUEST,
    IgnoreClientContentNegotiation,
    _content_length,
    _upload_authentication_classes,
)
from cases.crypto import AttachmentIntegrityError
from cases.downloads import file_response
from cases.upload import EncryptingUploadHandler, UploadRefused
from plans import evidence, selectors, services
from plans.models import (
    BorderSegment,
    Gap,
    GapEvidence,
    GapKind,
    GapStatus,
    Participation,
    Plan,
    PlanCase,
    PlanStatus,
    Severity,
    Task,
    TaskStatus,
)
from plans.serializers import (
    CloseInput,
    GapEvidenceOutput,
    GapInput,
    GapOutput,
    GapUpdateInput,
    InvitationOutput,
    InviteInput,
    LinkCaseInput,
    LinkedCaseOutput,
    ParticipationOutput,
    PlanDetailOutput,
    PlanInput,
    PlanOutput,
    PlanUpdateInput,
    TaskInput,
    TaskOutput,
    TaskUpdateInput,
    TimelineEntryOutput,
)
from workinggroup.models import User
from workinggroup.query_api import refuse_empty_values


def _parse(serializer_class, request, *, partial=False) -> dict:
    form = serializer_class(data=request.data, partial=partial)
    form.is_valid(raise_exception=True)
    return form.validated_data


def _filters(request, allowed: dict) -> dict:
    """The query's filters; unknown names, bad or empty values are a 400 naming them."""
    refuse_empty_values(request.query_params)
    errors, values = {}, {}
    for name, value in request.query_params.items():
        if name == "page":
            continue
        if name not in allowed:
            errors[name] = "unknown parameter"
        elif allowed[name] is not None and value and value not in allowed[name]:
            errors[name] = f"one of: {', '.join(allowed[name])}"
        else:
            values[name] = value
    if errors:
        raise ValidationError(errors)
    return values


def plan_detail_data(request, plan) -> dict:
    context = {
        "participations": selectors.participations_of(plan),
        "tasks": selectors.tasks_of(plan),
        "linked_cases": selectors.linked_cases(request.user, plan),
    }
    return PlanDetailOutput(plan, context=context).data


class PlanListView(GenericAPIView):
    """GET: the plans your country takes part in. POST: draft one led by your country."""

    queryset = Plan.objects.none()  # for the schema; reads go through the selectors
    serializer_class = PlanOutput

    @extend_schema(responses=PlanOutput(many=True), parameters=[
        OpenApiParameter("status", enum=PlanStatus.values),
        OpenApiParameter("border_segment", enum=BorderSegment.values),
    ])
    def get(self, request):
        f = _filters(request, {"status": PlanStatus.values,
                               "border_segment": BorderSegment.values})
        plans = selectors.plan_list(request.user, **f)
        page = self.paginate_queryset(plans)
        return self.get_paginated_response(PlanOutput(page, many=True).data)

    @extend_schema(request=PlanInput, responses={201: PlanDetailOutput})
    def post(self, request):
        selectors.require_plan_reader(request.user)
        plan = services.plan_create(actor=request.user, **_parse(PlanInput, request))
        return Response(plan_detail_data(request, plan), status=201)


class PlanDetailView(GenericAPIView):
    """GET: a plan with its participants, tasks and the linked cases you may see. PATCH:
    the lead country edits it while it is open."""

    serializer_class = PlanDetailOutput

    def get(self, request, plan_id):
        plan = selectors.get_plan_for(request.user, plan_id)
        return Response(plan_detail_data(request, plan))

    @extend_schema(request=PlanUpdateInput, responses=PlanDetailOutput)
    def patch(self, request, plan_id):
        plan = selectors.get_plan_for(request.user, plan_id)
        plan = services.plan_update(plan=plan, actor=request.user,
                                    **_parse(PlanUpdateInput, request, partial=True))
        return Response(plan_detail_data(request, plan))


class PlanStepView(GenericAPIView):
    """Base of the plan's step endpoints (POST only)."""

    http_method_names = ["post"]
    serializer_class = PlanDetailOutput


class PlanInviteView(PlanStepView):
    serializer_class = ParticipationOutput

    @extend_schema(request=InviteInput, responses={201: ParticipationOutput})
    def post(self, request, plan_id):
        """Invite a country (lead country's members)."""
        plan = selectors.get_plan_for(request.user, plan_id)
        data = _parse(InviteInput, request)
        participation = services.plan_invite(plan=plan, actor=request.user,
                                             country=data["country"])
        return Response(ParticipationOutput(participation).data, status=201)


class PlanAnswerView(PlanStepView):
    serializer_class = InvitationOutput
    service = None

    @extend_schema(request=None, responses=InvitationOutput)
    def post(self, request, plan_id):
        participation = selectors.get_invitation_for(request.user, plan_id)
        participation = type(self).service(participation=participation, liaison=request.user)
        return Response(InvitationOutput(participation).data)


class PlanJoinView(PlanAnswerView):
    """Accept your country's invitation (a liaison of the invited country)."""

    service = staticmethod(services.plan_join)


class PlanDeclineView(PlanAnswerView):
    """Decline your country's invitation (a liaison of the invited country)."""

    service = staticmethod(services.plan_decline)


class PlanActivateView(PlanStepView):
    @extend_schema(request=None, responses=PlanOutput)
    def post(self, request, plan_id):
        """Activate a drafted plan (a liaison of the lead country)."""
        plan = selectors.get_plan_for(request.user, plan_id)
        plan = services.plan_activate(plan=plan, liaison=request.user)
        return Response(PlanOutput(plan).data)


class PlanCloseView(PlanStepView):
    @extend_schema(request=CloseInput, responses=PlanOutput)
    def post(self, request, plan_id):
        """Close a plan as completed or cancelled (a liaison of the lead country)."""
        plan = selectors.get_plan_for(request.user, plan_id)
        plan = services.plan_close(plan=plan, liaison=request.user,
                                   status=_parse(CloseInput, request)["status"])
        return Response(PlanOutput(plan).data)


class InvitationListView(GenericAPIView):
    """GET: open invitations to your country (the plans' headers, to decide on)."""

    queryset = Participation.objects.none()  # for the schema; reads go through the selectors
    serializer_class = InvitationOutput

    @extend_schema(responses=InvitationOutput(many=True))
    def get(self, request):
        selectors.require_plan_reader(request.user)
        _filters(request, {})
        page = self.paginate_queryset(selectors.invitations_for(request.user))
        return self.get_paginated_response(InvitationOutput(page, many=True).data)


class PlanTimelineView(GenericAPIView):
    """GET: the plan's audit-worthy steps that your country's auditors read, oldest first."""

    queryset = AuditEntry.objects.none()  # for the schema; reads go through the selectors
    serializer_class = TimelineEntryOutput

    @extend_schema(responses=TimelineEntryOutput(many=True))
    def get(self, request, plan_id):
        plan = selectors.get_plan_for(request.user, plan_id)
        _filters(request, {})
        page = self.paginate_queryset(selectors.plan_timeline(request.user, plan))
        return self.get_paginated_response(TimelineEntryOutput(page, many=True).data)


class PlanCasesView(GenericAPIView):
    """GET: the plan's linked cases that you may see. POST: link one of your own cases."""

    queryset = PlanCase.objects.none()  # for the schema; reads go through the selectors
    serializer_class = LinkedCaseOutput

    @extend_schema(responses=LinkedCaseOutput(many=True))
    def get(self, request, plan_id):
        plan = selectors.get_plan_for(request.user, plan_id)
        page = self.paginate_queryset(selectors.linked_cases(request.user, plan))
        return self.get_paginated_response(LinkedCaseOutput(page, many=True).data)

    @extend_schema(request=LinkCaseInput, responses={201: LinkedCaseOutput})
    def post(self, request, plan_id):
        plan = selectors.get_plan_for(request.user, plan_id)
        data = _parse(LinkCaseInput, request)
        link = services.plan_link_case(plan=plan, actor=request.user, case_id=data["case"])
        return Response(LinkedCaseOutput(link).data, status=201)


class PlanTasksView(GenericAPIView):
    """GET: every task of the plan. POST: assign one to a participating country."""

    queryset = Task.objects.none()  # for the schema; reads go through the selectors
    serializer_class = TaskOutput

    @extend_schema(responses=TaskOutput(many=True))
    def get(self, request, plan_id):
        plan = selectors.get_plan_for(request.user, plan_id)
        page = self.paginate_queryset(selectors.tasks_of(plan))
        return self.get_paginated_response(TaskOutput(page, many=True).data)

    @extend_schema(request=TaskInput, responses={201: TaskOutput})
    def post(self, request, plan_id):
        plan = selectors.get_plan_for(request.user, plan_id)
        data = _parse(TaskInput, request)
        assignee, username = None, data.pop("assignee")
        if username:
            assignee = User.objects.filter(username=username).first()
            if assignee is None:
                raise ValidationError({"assignee": "no member has this username"})
        task = services.task_assign(plan=plan, actor=request.user, assignee=assignee, **data)
        return Response(TaskOutput(task).data, status=201)


class MyTasksView(GenericAPIView):
    """GET: your country's tasks in every plan it takes part in, soonest due first."""

    queryset = Task.objects.none()  # for the schema; reads go through the selectors
    serializer_class = TaskOutput

    @extend_schema(responses=TaskOutput(many=True), parameters=[
        OpenApiParameter("status", enum=TaskStatus.values),
        OpenApiParameter("plan_status", enum=PlanStatus.values),
    ])
    def get(self, request):
        f = _filters(request, {"status": TaskStatus.values, "plan_status": PlanStatus.values})
        page = self.paginate_queryset(selectors.my_country_tasks(request.user, **f))
        return self.get_paginated_response(TaskOutput(page, many=True).data)


class TaskDetailView(GenericAPIView):
    """GET: one task of a plan your country takes part in."""

    serializer_class = TaskOutput

    def get(self, request, task_id):
        return Response(TaskOutput(selectors.get_task_for(request.user, task_id)).data)


class TaskUpdatesView(GenericAPIView):
    """POST: set the task's status with a short note (members of the task's country)."""

    serializer_class = TaskOutput
    http_method_names = ["post"]

    @extend_schema(request=TaskUpdateInput, responses={201: TaskOutput})
    def post(self, request, task_id):
        task = selectors.get_task_for(request.user, task_id)
        services.task_update(task=task, actor=request.user, **_parse(TaskUpdateInput, request))
        return Response(TaskOutput(selectors.get_task_for(request.user, task_id)).data,
                        status=201)


def _gap_data(request, gaps, many=False):
    visible = set(selectors.plans_visible_to(request.user).values_list("pk", flat=True))
    return GapOutput(gaps, many=many, context={"visible_plan_ids": visible}).data


GAP_FILTERS = {"status": GapStatus.values, "border_segment": BorderSegment.values,
               "kind": GapKind.values, "severity": Severity.values, "plan_id": None}


class GapListView(GenericAPIView):
    """GET: the gaps register (the gaps that name your country). POST: record a gap."""

    queryset = Gap.objects.none()  # for the schema; reads go through the selectors
    serializer_class = GapOutput

    @extend_schema(responses=GapOutput(many=True), parameters=[
        OpenApiParameter(name, enum=values) if values else OpenApiParameter(name, OpenApiTypes.UUID)
        for name, values in GAP_FILTERS.items()
    ])
    def get(self, request):
        gaps = selectors.gap_list(request.user, **_filters(request, GAP_FILTERS))
        return self.get_paginated_response(_gap_data(request, self.paginate_queryset(gaps),
                                                     many=True))

    @extend_schema(request=GapInput, responses={201: GapOutput})
    def post(self, request):
        selectors.require_plan_reader(request.user)
        data = _parse(GapInput, request)
        data["plan_id"] = data.pop("plan")
        gap = services.gap_create(actor=request.user, **data)
        return Response(_gap_data(request, selectors.get_gap_for(request.user, gap.pk)),
                        status=201)


class GapDetailView(GenericAPIView):
    """GET: one gap. PATCH: edit it or mark it mitigated (the countries it names)."""

    serializer_class = GapOutput

    def get(self, request, gap_id):
        return Response(_gap_data(request, selectors.get_gap_for(request.user, gap_id)))

    @extend_schema(request=GapUpdateInput, responses=GapOutput)
    def patch(self, request, gap_id):
        gap = selectors.get_gap_for(request.user, gap_id)
        data = _parse(GapUpdateInput, request, partial=True)
        if "plan" in data:
            data["plan_id"] = data.pop("plan")
        services.gap_update(gap=gap, actor=request.user, **data)
        return Response(_gap_data(request, selectors.get_gap_for(request.user, gap_id)))


class GapEvidenceView(GenericAPIView):
    """GET: a gap's evidence files (metadata). POST: upload one (multipart field `file`),
    encrypted as it arrives, as case files are."""

    queryset = GapEvidence.objects.none()  # for the schema; reads go through the selectors
    serializer_class = GapEvidenceOutput
    parser_classes = [MultiPartParser]
    authentication_classes = _upload_authentication_classes()

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":  # the encrypting handler alone, armed after the checks
            request.upload_handlers = [EncryptingUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses=GapEvidenceOutput(many=True))
    def get(self, request, gap_id):
        gap = selectors.get_gap_for(request.user, gap_id)
        page = self.paginate_queryset(selectors.gap_evidence(gap))
        return self.get_paginated_response(GapEvidenceOutput(page, many=True).data)

    @extend_schema(request={"multipart/form-data": UPLOAD_REQUEST},
                   responses={201: GapEvidenceOutput})
    def post(self, request, gap_id):
        gap = selectors.get_gap_for(request.user, gap_id)

        def read_body():
            try:
                request.FILES  # noqa: B018 (parses the body through the handler)
            except (ParseError, SuspiciousOperation) as exc:
                raise UploadRefused(400, "malformed", f"malformed multipart body: {exc}") from None
            except UnsupportedMediaType:
                raise UploadRefused(415, "not_multipart",
                                    "send the file as multipart/form-data") from None

        item = evidence.gap_evidence_upload(
            gap=gap, actor=request.user, handler=request._request.upload_handlers[0],
            content_length=_content_length(request), read_body=read_body,
        )
        return Response(GapEvidenceOutput(item).data, status=201)


class GapEvidenceContentView(GenericAPIView):
    """GET: the decrypted evidence file, streamed (the countries the gap names)."""

    http_method_names = ["get"]
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(responses={**DOWNLOAD_RESPONSES, 404: None, 500: None})
    def get(self, request, evidence_id):
        item = selectors.get_gap_evidence_for(request.user, evidence_id)
        try:
            body = evidence.gap_evidence_open(user=request.user, evidence=item)
        except AttachmentIntegrityError:
            return Response({"detail": "The file failed its integrity check and was not "
                                       "sent; the incident is logged."}, status=500)
        return file_response(item, body)
