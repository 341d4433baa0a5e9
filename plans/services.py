"""Every change to a joint operation: keyword-only, one transaction, the row decided on
locked, and its audit entry recorded in the same transaction.

Plan entries are read by the auditors of the plan's participating countries (and, for an
invitation and its answer, of the invited country); a case link only by the linking
country's (it names the case, so the case gate decides its readers); a gap's entries by the
countries it names. Entries carry ids, states and country codes, never a plan's or gap's
text: auditors read the trail, not the content.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from cases.models import Case, HandlingCode
from cases.selectors import get_case_for
from core.errors import Conflict
from plans.models import (
    BorderSegment,
    Gap,
    GapCountry,
    GapKind,
    GapStatus,
    Participation,
    ParticipationStatus,
    Plan,
    PlanCase,
    PlanStatus,
    Severity,
    Task,
    TaskStatus,
    TaskUpdate,
)
from plans.selectors import participant_countries, plans_visible_to, reads_plans
from workinggroup.models import Country, User

MAX_PERIOD_DAYS = 3 * 366  # a plan longer than three years is a typo, not a plan


# --- rules shared by the steps ---------------------------------------------------------------


def _require_reader(user) -> None:
    if not reads_plans(user):
        raise PermissionDenied(_("only investigators and liaisons take part in joint operations"))


def _require_open(plan: Plan) -> None:
    if not plan.is_open:
        raise Conflict(_("the plan is %(status)s: it no longer changes")
                       % {"status": plan.get_status_display()}, status=plan.status)


def _require_lead(user, plan: Plan, *, liaison: bool = False) -> None:
    if user.country_id != plan.lead_country_id:
        raise PermissionDenied(_("only the lead country's members do this"))
    if liaison and not user.is_liaison:
        raise PermissionDenied(_("only a liaison of the lead country does this"))


def _locked(plan: Plan) -> Plan:
    return Plan.objects.select_for_update().get(pk=plan.pk)


def plan_readers(plan: Plan, *extra: str) -> list[str]:
    """Whose auditors read a plan step: the participating countries, plus `extra`."""
    return sorted(set(participant_countries(plan)) | set(extra))


def _country(code, field: str) -> Country:
    country = Country.objects.filter(code=str(code or "").upper()).first()
    if country is None:
        raise ValidationError({field: _("%(code)s is not a partner country code")
                               % {"code": code}})
    return country


def _clean_plan_fields(fields: dict) -> dict:
    """Validate a plan's fields (all of them, or those being changed) against each other."""
    errors = {}
    for name in ("title", "objective"):
        if name in fields:
            fields[name] = str(fields[name] or "").strip()
            if not fields[name]:
                errors[name] = _("this field is required")
    if "border_segments" in fields:
        segments = sorted(set(fields["border_segments"] or []))
        if not segments or any(s not in BorderSegment.values for s in segments):
            errors["border_segments"] = _("choose one or more of: %(choices)s") % {
                "choices": ", ".join(BorderSegment.values)}
        fields["border_segments"] = segments
    if "handling_code" in fields and fields["handling_code"] not in HandlingCode.values:
        errors["handling_code"] = _("not a handling code")
    starts, ends = fields.get("starts_on"), fields.get("ends_on")
    if starts and ends:
        if ends < starts:
            errors["ends_on"] = _("the end is before the start")
        elif (ends - starts).days > MAX_PERIOD_DAYS:
            errors["ends_on"] = _("a plan lasts at most three years")
    if errors:
        raise ValidationError(errors)
    return fields


def _check_h3(plan: Plan) -> None:
    if plan.handling_code == HandlingCode.H3 and not plan.handling_note.strip():
        raise ValidationError({"handling_note": _("H3 needs the restriction stated")})


# --- plans -----------------------------------------------------------------------------------


def plan_create(
    *, actor: User, title: str, objective: str, border_segments: list[str], starts_on: dt.date,
    ends_on: dt.date, locations: str = "", handling_code: str = HandlingCode.H0,
    handling_note: str = "", invite: list[str] = (),
) -> Plan:
    """Draft a plan led by the actor's country and invite the countries named in `invite`."""
    _require_reader(actor)
    fields = _clean_plan_fields({
        "title": title, "objective": objective, "border_segments": border_segments,
        "starts_on": starts_on, "ends_on": ends_on, "handling_code": handling_code,
    })
    invitees = [_country(code, "invite") for code in dict.fromkeys(invite or [])]
    if any(c.code == actor.country_id for c in invitees):
        raise ValidationError({"invite": _("the lead country takes part already")})
    with transaction.atomic():
        plan = Plan(lead_country_id=actor.country_id, created_by=actor, locations=locations,
                    handling_note=handling_note.strip(), **fields)
        _check_h3(plan)
        plan.save()
        Participation.objects.create(
            plan=plan, country_id=actor.country_id, status=ParticipationStatus.ACCEPTED,
            invited_by=actor, decided_by=actor, decided_at=timezone.now(),
        )
        # The invited countries are told of the draft, so their auditors read its creation.
        audit.record("plan.create", actor, target=plan,
                     readers=plan_readers(plan, *(c.code for c in invitees)),
                     border_segments=plan.border_segments, handling_code=plan.handling_code,
                     invited=[c.code for c in invitees])
        for country in invitees:
            _invite(plan, actor, country)
    return plan


def _invite(plan: Plan, actor: User, country: Country) -> Participation:
    participation = Participation.objects.select_for_update().filter(
        plan=plan, country=country).first()
    if participation is None:
        participation = Participation.objects.create(
            plan=plan, country=country, status=ParticipationStatus.INVITED, invited_by=actor)
    elif participation.status == ParticipationStatus.DECLINED:
        participation.status, participation.invited_by = ParticipationStatus.INVITED, actor
        participation.invited_at, participation.decided_by = timezone.now(), None
        participation.decided_at = None
        participation.save(update_fields=["status", "invited_by", "invited_at", "decided_by",
                                          "decided_at"])
    else:
        raise Conflict(_("%(country)s is already %(status)s")
                       % {"country": country.code, "status": participation.get_status_display()},
                       status=participation.status)
    audit.record("plan.invite", actor, target=plan, readers=plan_readers(plan, country.code),
                 country=country.code)
    return participation


def plan_invite(*, plan: Plan, actor: User, country: str) -> Participation:
    """Invite a country to take part (lead country's members, while the plan is open)."""
    _require_reader(actor)
    _require_lead(actor, plan)
    invitee = _country(country, "country")
    with transaction.atomic():
        plan = _locked(plan)
        _require_open(plan)
        return _invite(plan, actor, invitee)


def _answer(participation: Participation, liaison: User, status: str, action: str):
    _require_reader(liaison)
    if participation.country_id != liaison.country_id or not liaison.is_liaison:
        raise PermissionDenied(_("only a liaison of the invited country answers an invitation"))
    with transaction.atomic():
        plan = _locked(participation.plan)
        participation = Participation.objects.select_for_update().get(pk=participation.pk)
        _require_open(plan)
        if participation.status != ParticipationStatus.INVITED:
            raise Conflict(_("the invitation was already answered: %(status)s")
                           % {"status": participation.get_status_display()},
                           status=participation.status)
        participation.status, participation.decided_by = status, liaison
        participation.decided_at = timezone.now()
        participation.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record(action, liaison, target=plan,
                     readers=plan_readers(plan, participation.country_id),
                     country=participation.country_id)
    return participation


def plan_join(*, participation: Participation, liaison: User) -> Participation:
    """A liaison of the invited country accepts: from now on the country takes part."""
    return _answer(participation, liaison, ParticipationStatus.ACCEPTED, "plan.join")


def plan_decline(*, participation: Participation, liaison: User) -> Participation:
    """A liaison of the invited country declines: the country gets no access to the plan."""
    return _answer(participation, liaison, ParticipationStatus.DECLINED, "plan.decline")


def plan_activate(*, plan: Plan, liaison: User) -> Plan:
    """A liaison of the lead country starts a drafted plan."""
    _require_reader(liaison)
    _require_lead(liaison, plan, liaison=True)
    with transaction.atomic():
        plan = _locked(plan)
        if plan.status != PlanStatus.DRAFT:
            raise Conflict(_("only a draft is activated; the plan is %(status)s")
                           % {"status": plan.get_status_display()}, status=plan.status)
        plan.status = PlanStatus.ACTIVE
        plan.save(update_fields=["status", "updated_at"])
        audit.record("plan.activate", liaison, target=plan, readers=plan_readers(plan))
    return plan


PLAN_EDITABLE = ("title", "objective", "border_segments", "locations", "starts_on", "ends_on",
                 "handling_code", "handling_note")


def plan_update(*, plan: Plan, actor: User, **changes) -> Plan:
    """The lead country's members edit an open plan; the entry names the fields changed."""
    _require_reader(actor)
    _require_lead(actor, plan)
    unknown = set(changes) - set(PLAN_EDITABLE)
    if unknown:
        raise ValidationError({name: _("this field cannot be changed") for name in unknown})
    with transaction.atomic():
        plan = _locked(plan)
        _require_open(plan)
        current = {name: getattr(plan, name) for name in ("starts_on", "ends_on")}
        fields = _clean_plan_fields({**current, **changes})
        changed = sorted(n for n in changes if getattr(plan, n) != fields[n])
        for name in changed:
            setattr(plan, name, fields[name])
        _check_h3(plan)
        if changed:
            plan.save(update_fields=[*changed, "updated_at"])
            audit.record("plan.update", actor, target=plan, readers=plan_readers(plan),
                         fields=changed)
    return plan


def plan_close(*, plan: Plan, liaison: User, status: str, note: str = "") -> Plan:
    """A lead-country liaison closes a plan: completed (it was active) or cancelled."""
    _require_reader(liaison)
    _require_lead(liaison, plan, liaison=True)
    if status not in (PlanStatus.COMPLETED, PlanStatus.CANCELLED):
        raise ValidationError({"status": _("close as completed or cancelled")})
    with transaction.atomic():
        plan = _locked(plan)
        _require_open(plan)
        if status == PlanStatus.COMPLETED and plan.status != PlanStatus.ACTIVE:
            raise Conflict(_("only an active plan is completed; cancel a draft"),
                           status=plan.status)
        plan.status = status
        plan.save(update_fields=["status", "updated_at"])
        audit.record("plan.close", liaison, target=plan, readers=plan_readers(plan),
                     status=status)
    return plan


def plan_link_case(*, plan: Plan, actor: User, case_id) -> PlanCase:
    """A participant links one of its own country's cases. It grants nothing to anyone."""
    _require_reader(actor)
    case: Case = get_case_for(actor, case_id)  # 404 for a case the actor cannot see
    if case.owner_country_id != actor.country_id:
        raise PermissionDenied(_("a participant links only its own country's cases"))
    with transaction.atomic():
        plan = _locked(plan)
        _require_open(plan)
        try:
            with transaction.atomic():
                link = PlanCase.objects.create(plan=plan, case=case, linked_by=actor)
        except IntegrityError:
            raise Conflict(_("the case is linked to this plan already")) from None
        # Names the case: the case gate decides the readers (the linking country's alone).
        audit.record("plan.link_case", actor, target=plan, case=case)
    return link


# --- tasks -----------------------------------------------------------------------------------


def task_assign(*, plan: Plan, actor: User, country: str, title: str, due_on: dt.date,
                assignee: User | None = None) -> Task:
    """Assign a task to a participating country (the lead to anyone taking part, others
    to their own country), optionally to one of its investigators or liaisons."""
    _require_reader(actor)
    target = _country(country, "country")
    if actor.country_id not in (plan.lead_country_id, target.code):
        raise PermissionDenied(_("only the lead country assigns tasks to other countries"))
    title = str(title or "").strip()
    if not title:
        raise ValidationError({"title": _("this field is required")})
    if assignee is not None and not (
        assignee.is_active and assignee.country_id == target.code and reads_plans(assignee)
    ):
        raise ValidationError({"assignee": _("an investigator or liaison of %(country)s")
                               % {"country": target.code}})
    with transaction.atomic():
        plan = _locked(plan)
        _require_open(plan)
        if target.code not in participant_countries(plan):
            raise ValidationError({"country": _("%(country)s does not take part in the plan")
                                   % {"country": target.code}})
        task = Task.objects.create(plan=plan, country=target, assignee=assignee, title=title,
                                   due_on=due_on, created_by=actor)
        audit.record("task.assign", actor, target=task, readers=plan_readers(plan),
                     plan=str(plan.pk), country=target.code, due_on=due_on.isoformat(),
                     assignee=assignee.get_username() if assignee else "")
    return task


def task_update(*, task: Task, actor: User, status: str, note: str = "") -> TaskUpdate:
    """A member of the task's country sets its status and may leave a short note."""
    _require_reader(actor)
    if actor.country_id != task.country_id:
        raise PermissionDenied(_("only the assigned country's members update this task"))
    if status not in TaskStatus.values:
        raise ValidationError({"status": _("one of: %(choices)s")
                               % {"choices": ", ".join(TaskStatus.values)}})
    note = str(note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": _("at most 1,000 characters")})
    with transaction.atomic():
        plan = _locked(task.plan)
        _require_open(plan)
        task = Task.objects.select_for_update().get(pk=task.pk)
        previous = task.status
        task.status = status
        task.save(update_fields=["status", "updated_at"])
        update = TaskUpdate.objects.create(task=task, author=actor, status=status, note=note)
        audit.record("task.update", actor, target=task, readers=plan_readers(plan),
                     plan=str(plan.pk), previous=previous, status=status)
    return update


# --- security gaps ---------------------------------------------------------------------------


def _clean_gap_fields(fields: dict) -> dict:
    errors = {}
    for name, choices in (("border_segment", BorderSegment), ("kind", GapKind),
                          ("severity", Severity)):
        if name in fields and fields[name] not in choices.values:
            errors[name] = _("one of: %(choices)s") % {"choices": ", ".join(choices.values)}
    for name in ("location", "description"):
        if name in fields:
            fields[name] = str(fields[name] or "").strip()
            if not fields[name]:
                errors[name] = _("this field is required")
    if errors:
        raise ValidationError(errors)
    return fields


def _gap_plan(actor: User, plan_id) -> Plan | None:
    if not plan_id:
        return None
    plan = plans_visible_to(actor).filter(pk=plan_id).first()
    if plan is None:
        raise ValidationError({"plan": _("no plan your country takes part in has this id")})
    return plan


def gap_readers(gap: Gap) -> list[str]:
    """Whose auditors read a gap's entries: the countries it names."""
    return sorted(gap.visibility.values_list("country_id", flat=True))


def gap_create(*, actor: User, border_segment: str, location: str, kind: str, severity: str,
               description: str, countries: list[str] = (), plan_id=None) -> Gap:
    """Record a gap, visible to the named countries and always to the actor's own."""
    _require_reader(actor)
    fields = _clean_gap_fields({"border_segment": border_segment, "location": location,
                                "kind": kind, "severity": severity,
                                "description": description})
    named = {_country(code, "countries").code for code in countries or []}
    named.add(actor.country_id)
    with transaction.atomic():
        plan = _gap_plan(actor, plan_id)
        gap = Gap.objects.create(country_id=actor.country_id, recorded_by=actor, plan=plan,
                                 **fields)
        GapCountry.objects.bulk_create(GapCountry(gap=gap, country_id=c) for c in named)
        audit.record("gap.create", actor, target=gap, readers=sorted(named),
                     border_segment=gap.border_segment, kind=gap.kind, severity=gap.severity,
                     countries=sorted(named), plan=str(plan.pk) if plan else "")
    return gap


GAP_EDITABLE = ("location", "kind", "severity", "description", "status", "plan_id",
                "add_countries")


def gap_update(*, gap: Gap, actor: User, **changes) -> Gap:
    """Members of the named countries edit an open gap or mark it mitigated; only the
    recording country shows it to more countries (`add_countries`), never to fewer."""
    _require_reader(actor)
    unknown = set(changes) - set(GAP_EDITABLE)
    if unknown:
        raise ValidationError({name: _("this field cannot be changed") for name in unknown})
    added = {_country(c, "add_countries").code for c in changes.pop("add_countries", []) or []}
    if added and actor.country_id != gap.country_id:
        raise PermissionDenied(_("only the recording country shows a gap to more countries"))
    if "status" in changes and changes["status"] not in GapStatus.values:
        raise ValidationError({"status": _("one of: %(choices)s")
                               % {"choices": ", ".join(GapStatus.values)}})
    with transaction.atomic():
        gap = Gap.objects.select_for_update().get(pk=gap.pk)
        if actor.country_id not in gap_readers(gap):
            raise PermissionDenied(_("only the countries the gap names change it"))
        if gap.status == GapStatus.MITIGATED:
            raise Conflict(_("the gap is mitigated: it no longer changes"), status=gap.status)
        if "plan_id" in changes:
            plan = _gap_plan(actor, changes.pop("plan_id"))
            changes["plan_id"] = plan.pk if plan else None
        fields = _clean_gap_fields(changes)
        changed = sorted(n for n in fields if getattr(gap, n) != fields[n])
        for name in changed:
            setattr(gap, name, fields[name])
        if gap.status == GapStatus.MITIGATED and "status" in changed:
            gap.mitigated_at = timezone.now()
            changed.append("mitigated_at")
        if changed:
            gap.save(update_fields=[*changed, "updated_at"])
        added -= set(gap_readers(gap))
        GapCountry.objects.bulk_create(GapCountry(gap=gap, country_id=c) for c in added)
        if changed or added:
            audit.record("gap.update", actor, target=gap, readers=gap_readers(gap),
                         fields=[n for n in changed if n != "mitigated_at"],
                         status=gap.status, added_countries=sorted(added))
    return gap
