"""Joint operations: operational plans that countries consent to, their tasks per country,
the cases participants link to them, and the register of border security gaps.

Who sees what is decided in plans/selectors.py; what may change, in plans/services.py. The
rules that concern one row alone live here (`Plan.is_open`, `Participation.is_member`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Case, HandlingCode, uuid7
from workinggroup.models import Country


class BorderSegment(models.TextChoices):
    """The two borders the ministers' statement names (the dashboard's codes, same spelling)."""

    US_MX = "US-MX", _("US-Mexico border")
    MX_GT = "MX-GT", _("Mexico-Guatemala border")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_PLAN_STATUSES = (PlanStatus.DRAFT, PlanStatus.ACTIVE)


class Plan(models.Model):
    """A coordinated operational plan, led by one country; others take part by consent."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    title = models.CharField(_("title"), max_length=200)
    objective = models.TextField(_("objective"), max_length=5000)
    # A short list of BorderSegment codes (one or both), validated by the services.
    border_segments = models.JSONField(_("border segments"), default=list)
    locations = models.CharField(_("locations"), max_length=500, blank=True)
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    lead_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="+", verbose_name=_("lead country")
    )
    handling_code = models.CharField(
        _("handling code"), max_length=2, choices=HandlingCode.choices, default=HandlingCode.H0
    )
    handling_note = models.CharField(_("handling restriction"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]  # newest first: ids are time-ordered
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(handling_code="H3") | ~models.Q(handling_note=""),
                name="plan_h3_states_its_restriction",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="plan_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return f"plan {self.id}"

    @property
    def is_open(self) -> bool:
        """Draft or active: tasks, links and invitations may still change."""
        return self.status in OPEN_PLAN_STATUSES


class ParticipationStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Taking part")
    DECLINED = "declined", _("Declined")


class Participation(models.Model):
    """A country's place in a plan: invited, then accepted or declined by one of its liaisons.

    The lead country's row is accepted when the plan is drafted. Only accepted rows make a
    country a participant (plans/selectors.py).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="participations")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ParticipationStatus.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["country_id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "country"], name="one_participation_each")
        ]
        indexes = [models.Index(fields=["country", "status", "plan"], name="plan_by_country")]

    def __str__(self):
        return f"{self.country_id} in plan {self.plan_id}: {self.status}"

    @property
    def is_member(self) -> bool:
        return self.status == ParticipationStatus.ACCEPTED


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    BLOCKED = "blocked", _("Blocked")


class Task(models.Model):
    """A piece of a plan assigned to one participating country (optionally one member)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="+", verbose_name=_("country")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("assignee"),
    )
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["country", "status", "due_on"], name="task_by_country")]

    def __str__(self):
        return f"task {self.id}"


class TaskUpdate(models.Model):
    """A short note on a task by a member of its country, with the status it left."""

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    status = models.CharField(max_length=12, choices=TaskStatus.choices)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"update {self.id} of task {self.task_id}"


class PlanCase(models.Model):
    """A participant's own case linked to a plan. It grants nothing: partners see the link
    only when the case gate already shows them the case (plans.selectors.linked_cases)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="case_links")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "case"], name="case_linked_once_per_plan")
        ]

    def __str__(self):
        return f"case link {self.id}"


class GapKind(models.TextChoices):
    UNMONITORED_CROSSING = "unmonitored_crossing", _("Unmonitored crossing")
    DOCUMENT_FRAUD = "document_fraud", _("Document fraud")
    CORRUPTION_RISK = "corruption_risk", _("Corruption risk")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class GapStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MITIGATED = "mitigated", _("Mitigated")


class Gap(models.Model):
    """A border security gap, recorded by one country and visible to the countries it names
    (the recording country always among them); optionally addressed by a plan."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    countries = models.ManyToManyField(
        Country, related_name="+", verbose_name=_("visible to"), through="GapCountry"
    )
    border_segment = models.CharField(
        _("border segment"), max_length=8, choices=BorderSegment.choices
    )
    location = models.CharField(_("location"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=GapKind.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    description = models.TextField(_("description"), max_length=5000)
    status = models.CharField(
        _("status"), max_length=10, choices=GapStatus.choices, default=GapStatus.OPEN
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.SET_NULL, null=True, blank=True, related_name="gaps",
        verbose_name=_("addressed by plan"),
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"gap {self.id}"


class GapCountry(models.Model):
    """One country a gap is visible to (the gate reads this table on indexed keys)."""

    gap = models.ForeignKey(Gap, on_delete=models.CASCADE, related_name="visibility")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "gap"], name="gap_country_once")
        ]

    def __str__(self):
        return f"{self.country_id} sees gap {self.gap_id}"


class GapEvidence(models.Model):
    """An evidence file of a gap: the case files' format (WGXA v1, cases.crypto) under the
    recording country's key, owned by the gap and read under the gap's visibility rule."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # PROTECT: evidence never disappears as a side effect of deleting its gap.
    gap = models.ForeignKey(Gap, on_delete=models.PROTECT, related_name="evidence")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256 of the plaintext"), max_length=64)
    storage_name = models.CharField(max_length=255, unique=True)
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField(max_length=40)
    format_version = models.PositiveSmallIntegerField(default=1)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["key_id"], name="gap_evidence_key")]

    def __str__(self):
        return f"gap evidence {self.id}"
