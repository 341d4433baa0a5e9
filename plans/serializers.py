"""Plan, task and gap input and output. Fields listed explicitly; linked cases appear only
as the selector hands them over (the ones the reader's country sees)."""

from rest_framework import serializers

from cases.models import HandlingCode
from cases.serializers import StrictCharField, StrictInput
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
    TaskUpdate,
)
from workinggroup.schema_api import PartnerCountryField

# Null when the member is gone, or for a step not taken yet (a decision, an assignee).
Username = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)


# --- input ------------------------------------------------------------------------------------


class PlanInput(StrictInput):
    """POST /api/v1/plans/ (PATCH takes the same fields, each optional, `invite` excepted)."""

    title = StrictCharField(max_length=200)
    objective = StrictCharField(max_length=5000)
    border_segments = serializers.ListField(
        child=serializers.ChoiceField(choices=BorderSegment.choices), min_length=1, max_length=2
    )
    locations = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(
        help_text="On or after starts_on, at most three years later (else 400 naming ends_on).")
    handling_code = serializers.ChoiceField(choices=HandlingCode.choices, default="H0")
    handling_note = StrictCharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text="The restriction, stated: required (not blank) when handling_code is H3.")
    invite = serializers.ListField(
        child=PartnerCountryField(), required=False, default=list, max_length=20,
        help_text="Partner countries to invite while drafting (not the lead country).",
    )


class PlanUpdateInput(PlanInput):
    invite = None


class InviteInput(StrictInput):
    country = PartnerCountryField()


class CloseInput(StrictInput):
    status = serializers.ChoiceField(choices=[PlanStatus.COMPLETED, PlanStatus.CANCELLED])


class LinkCaseInput(StrictInput):
    case = serializers.UUIDField()


class TaskInput(StrictInput):
    country = PartnerCountryField(
        help_text="A country taking part in the plan (else 400 naming country).")
    title = StrictCharField(max_length=200)
    due_on = serializers.DateField()
    assignee = StrictCharField(max_length=150, required=False, allow_blank=True, default="",
                               help_text="Username of an investigator or liaison of that "
                                         "country (else 400 naming assignee).")


class TaskUpdateInput(StrictInput):
    status = serializers.ChoiceField(choices=TaskStatus.choices)
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


class GapInput(StrictInput):
    border_segment = serializers.ChoiceField(choices=BorderSegment.choices)
    location = StrictCharField(max_length=200)
    kind = serializers.ChoiceField(choices=GapKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    description = StrictCharField(max_length=5000)
    countries = serializers.ListField(child=PartnerCountryField(), required=False,
                                      default=list, max_length=20,
                                      help_text="Countries that see it (yours always does).")
    plan = serializers.UUIDField(
        required=False, allow_null=True, default=None,
        help_text="A plan your country takes part in (else 400 naming plan).")


class GapUpdateInput(StrictInput):
    location = StrictCharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=GapKind.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    description = StrictCharField(max_length=5000, required=False)
    status = serializers.ChoiceField(choices=GapStatus.choices, required=False)
    plan = serializers.UUIDField(required=False, allow_null=True)
    add_countries = serializers.ListField(child=PartnerCountryField(), required=False,
                                          max_length=20)


# --- output -----------------------------------------------------------------------------------


class ParticipationOutput(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id")
    decided_by = Username

    class Meta:
        model = Participation
        fields = ["country", "status", "invited_at", "decided_by", "decided_at"]
        read_only_fields = fields


class PlanOutput(serializers.ModelSerializer):
    lead_country = serializers.CharField(source="lead_country_id")
    created_by = Username

    class Meta:
        model = Plan
        fields = ["id", "title", "objective", "border_segments", "locations", "starts_on",
                  "ends_on", "lead_country", "handling_code", "handling_note", "status",
                  "created_by", "created_at", "updated_at"]
        read_only_fields = fields


class InvitationOutput(serializers.ModelSerializer):
    """An invitation as the invited country sees it: the plan's header, no tasks or links."""

    plan = PlanOutput(read_only=True)
    country = serializers.CharField(source="country_id")
    invited_by = Username

    class Meta:
        model = Participation
        fields = ["plan", "country", "status", "invited_by", "invited_at"]
        read_only_fields = fields


class TaskUpdateOutput(serializers.ModelSerializer):
    author = Username

    class Meta:
        model = TaskUpdate
        fields = ["author", "status", "note", "created_at"]
        read_only_fields = fields


class TaskOutput(serializers.ModelSerializer):
    plan = serializers.UUIDField(source="plan_id")
    country = serializers.CharField(source="country_id")
    assignee = Username
    created_by = Username
    updates = TaskUpdateOutput(many=True, read_only=True)

    class Meta:
        model = Task
        fields = ["id", "plan", "country", "assignee", "title", "due_on", "status",
                  "created_by", "created_at", "updated_at", "updates"]
        read_only_fields = fields


class LinkedCaseOutput(serializers.ModelSerializer):
    """A link whose case the reader sees: the case's header fields, never more."""

    case = serializers.UUIDField(source="case_id")
    reference = serializers.CharField(source="case.reference")
    title = serializers.CharField(source="case.title")
    owner_country = serializers.CharField(source="case.owner_country_id")
    handling_code = serializers.CharField(source="case.handling_code")
    linked_by = Username

    class Meta:
        model = PlanCase
        fields = ["case", "reference", "title", "owner_country", "handling_code",
                  "linked_by", "linked_at"]
        read_only_fields = fields


class PlanDetailOutput(PlanOutput):
    participations = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    linked_cases = serializers.SerializerMethodField()

    class Meta(PlanOutput.Meta):
        fields = [*PlanOutput.Meta.fields, "participations", "tasks", "linked_cases"]
        read_only_fields = fields

    # The view hands the selectors' answers over in the context: nothing is read here.
    def get_participations(self, obj) -> list[dict]:
        return ParticipationOutput(self.context["participations"], many=True).data

    def get_tasks(self, obj) -> list[dict]:
        return TaskOutput(self.context["tasks"], many=True).data

    def get_linked_cases(self, obj) -> list[dict]:
        return LinkedCaseOutput(self.context["linked_cases"], many=True).data


class TimelineEntryOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField()
    actor_country = serializers.CharField()
    action = serializers.CharField()
    details = serializers.DictField()


class GapEvidenceOutput(serializers.ModelSerializer):
    uploaded_by = Username

    class Meta:
        model = GapEvidence
        fields = ["id", "filename", "content_type", "size", "sha256", "uploaded_by",
                  "uploaded_at"]
        read_only_fields = fields


class GapOutput(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id")
    countries = serializers.SerializerMethodField()
    plan = serializers.SerializerMethodField()
    recorded_by = Username

    class Meta:
        model = Gap
        fields = ["id", "country", "countries", "border_segment", "location", "kind",
                  "severity", "description", "status", "plan", "recorded_by", "created_at",
                  "updated_at", "mitigated_at"]
        read_only_fields = fields

    def get_countries(self, obj) -> list[str]:
        return sorted(c.code for c in obj.countries.all())

    def get_plan(self, obj) -> str | None:
        # The addressing plan is named only to readers whose country takes part in it.
        visible = self.context.get("visible_plan_ids", set())
        return str(obj.plan_id) if obj.plan_id in visible else None
