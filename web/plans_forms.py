"""Forms of the joint-operations pages: they turn what a member typed into the arguments
of a plans service. No rule lives here; the services refuse, and their ValidationError is
put beside the field it names (web.forms.add_service_errors)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import HandlingCode
from plans.models import BorderSegment, GapKind, GapStatus, PlanStatus, Severity, TaskStatus
from web.forms import DateInput, _choices


def _countries(codes):
    return [(code, code) for code in codes]


class PlanForm(forms.Form):
    """Draft a plan: the fields of plans.services.plan_create."""

    title = forms.CharField(label=_("Title"), max_length=200)
    objective = forms.CharField(label=_("Objective"), max_length=5000,
                                widget=forms.Textarea(attrs={"rows": 4}))
    border_segments = forms.MultipleChoiceField(
        label=_("Border segments"), choices=BorderSegment.choices,
        widget=forms.CheckboxSelectMultiple)
    locations = forms.CharField(label=_("Locations"), max_length=500, required=False,
                                help_text=_("Towns, crossings or stretches of the border."))
    starts_on = forms.DateField(label=_("Start"), widget=DateInput())
    ends_on = forms.DateField(label=_("End"), widget=DateInput())
    handling_code = forms.ChoiceField(label=_("Handling code"), choices=HandlingCode.choices)
    handling_note = forms.CharField(label=_("Handling restriction"), max_length=500,
                                    required=False,
                                    help_text=_("Required with H3: state the restriction."))
    invite = forms.MultipleChoiceField(
        label=_("Invite countries"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Each takes part once one of its liaisons accepts."))

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invite"].choices = _countries(partners)


class InviteForm(forms.Form):
    country = forms.ChoiceField(label=_("Country to invite"))

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _countries(countries)


class CloseForm(forms.Form):
    status = forms.ChoiceField(label=_("Close the plan as"), widget=forms.RadioSelect,
                               choices=[(PlanStatus.COMPLETED, PlanStatus.COMPLETED.label),
                                        (PlanStatus.CANCELLED, PlanStatus.CANCELLED.label)])


class TaskForm(forms.Form):
    """Assign a task: the fields of plans.services.task_assign."""

    country = forms.ChoiceField(label=_("Country"))
    title = forms.CharField(label=_("Task"), max_length=200)
    due_on = forms.DateField(label=_("Due date"), widget=DateInput())

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _countries(countries)


class TaskUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TaskStatus.choices)
    note = forms.CharField(label=_("Note"), max_length=1000, required=False)


class LinkCaseForm(forms.Form):
    case = forms.ChoiceField(label=_("Your country's case"),
                             help_text=_("Linking grants nothing: partners see it only if "
                                         "they already hold a share of it."))

    def __init__(self, *args, cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = [(str(c.pk), f"{c.reference} · {c.title}") for c in cases]


class GapForm(forms.Form):
    """Record a gap: the fields of plans.services.gap_create."""

    border_segment = forms.ChoiceField(label=_("Border segment"), choices=BorderSegment.choices)
    location = forms.CharField(label=_("Location"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=GapKind.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    description = forms.CharField(label=_("Description"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    countries = forms.MultipleChoiceField(
        label=_("Also visible to"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Your country always sees it; nobody else unless named here."))
    plan_id = forms.ChoiceField(label=_("Addressed by plan"), required=False)

    def __init__(self, *args, partners=(), plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["countries"].choices = _countries(partners)
        self.fields["plan_id"].choices = _choices(_("None"), [(str(p.pk), p.title)
                                                              for p in plans])


class GapMitigateForm(forms.Form):
    status = forms.ChoiceField(widget=forms.HiddenInput, choices=[(GapStatus.MITIGATED, "")],
                               initial=GapStatus.MITIGATED)


class GapFilterForm(forms.Form):
    """The register's filters, in the URL so a filtered list can be bookmarked."""

    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=_choices(_("Any"), GapStatus.choices))
    border_segment = forms.ChoiceField(label=_("Border segment"), required=False,
                                       choices=_choices(_("Any"), BorderSegment.choices))
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=_choices(_("Any"), GapKind.choices))
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=_choices(_("Any"), Severity.choices))

    def filters(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v} if self.is_valid() else {}
