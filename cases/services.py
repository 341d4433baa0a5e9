"""Every write to a case, its subjects and identifiers: one function each, audited.

Each service runs in one transaction, locks the row it decides on, re-checks the actor's
right to act under that lock, and calls `audit.record` in the same transaction. Refusals are
Django's PermissionDenied (403: the actor sees the case but may not act) and CaseNotFound
(404); bad input is a ValidationError whose dict names each field, as the API and the pages
report it. The rules of a field live here once (H3 needs a note, dates of birth from 1900,
nationality a country code, aliases and identifiers bounded); serializers only check shapes.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import audit
from cases import permissions
from cases.identifiers import IdentifierType, InvalidIdentifier, blind_index, name_dob_value
from cases.identifiers import normalise as normalise_identifier
from cases.models import (
    Case,
    CaseCounter,
    CaseStatus,
    HandlingCode,
    Identifier,
    InformationAssessment,
    SourceReliability,
    Subject,
    handling_note_error,
)
from core.keyring import get_keyring
from workinggroup.models import clean_country_code

EDITABLE_FIELDS = (
    "title",
    "summary",
    "case_type",
    "status",
    "handling_code",
    "handling_note",
    "source_reliability",
    "information_assessment",
)
MAX_IDENTIFIERS_PER_SUBJECT = 50
MAX_ALIASES = 20
MAX_ALIAS_CHARS = 200


def _next_reference(country_code: str, year: int) -> tuple[int, str]:
    """The next number of a country's year, taken under the counter row's lock."""
    counters = CaseCounter.objects.select_for_update().filter(country_id=country_code, year=year)
    counter = counters.first()
    if counter is None:
        # Two first cases of a year race here: ON CONFLICT DO NOTHING lets the loser wait for
        # the winner's row and then lock it, instead of failing on the unique constraint.
        CaseCounter.objects.bulk_create(
            [CaseCounter(country_id=country_code, year=year)], ignore_conflicts=True
        )
        counter = counters.get()
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"{country_code}-{year}-{counter.last_number:06d}"


def _check_handling(handling_code: str, handling_note: str) -> None:
    problem = handling_note_error(handling_code, handling_note)
    if problem:
        raise ValidationError({"handling_note": [problem]})


def _clean_fields(instance, fields) -> None:
    """Field rules (choices, lengths, blanks) for callers that are not the API, no queries."""
    exclude = [f.name for f in instance._meta.fields if f.name not in fields]
    instance.clean_fields(exclude=exclude)


def _require_editor(actor, case: Case) -> None:
    """Only the owner country's investigators change a case or add to it."""
    if not permissions.can_edit_case(actor, case):
        raise PermissionDenied(_("only the owner country's investigators change this case"))


def require_case_creator(actor) -> None:
    """Investigators with a country open cases; anyone else gets 403."""
    if not permissions.can_create_case(actor):
        raise PermissionDenied(_("only investigators create cases"))


def case_create(
    *,
    actor,
    title: str,
    case_type: str,
    summary: str = "",
    status: str = CaseStatus.OPEN,
    handling_code: str = HandlingCode.H0,
    handling_note: str = "",
    source_reliability: str = SourceReliability.X,
    information_assessment: str = InformationAssessment.UNCONFIRMED,
) -> Case:
    """Open a case owned by the actor's country, with the next reference of its year."""
    require_case_creator(actor)
    _check_handling(handling_code, handling_note)
    case = Case(
        owner_country_id=actor.country_id,
        title=title,
        summary=summary,
        case_type=case_type,
        status=status,
        handling_code=handling_code,
        handling_note=handling_note,
        source_reliability=source_reliability,
        information_assessment=information_assessment,
        created_by=actor,
    )
    _clean_fields(case, EDITABLE_FIELDS)
    with transaction.atomic():
        # UTC year, as every timestamp here; a case opened at 23:30 on 31 December in
        # Guatemala City is numbered in the new year.
        case.year = timezone.now().year
        case.number, case.reference = _next_reference(actor.country_id, case.year)
        case.save(force_insert=True)
        permissions.grant_owner(case)
        audit.record(
            "case.create", actor, target=case, reference=case.reference,
            handling_code=case.handling_code,
        )
    case.access = "owner"
    return case


def case_update(*, case: Case, actor, **changes) -> Case:
    """Edit a case's fields (owner country's investigators); audits the changed field names."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: [_("not a writable field")] for name in unknown})
    with transaction.atomic():
        case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
        _require_editor(actor, case)
        changed = sorted(name for name, value in changes.items() if getattr(case, name) != value)
        for name in changed:
            setattr(case, name, changes[name])
        _clean_fields(case, changed)
        _check_handling(case.handling_code, case.handling_note)
        if changed:
            case.save(update_fields=[*changed, "updated_at"])
        audit.record("case.update", actor, target=case, fields=changed)
    case.access = "owner"
    return case


# --- subjects and identifiers ----------------------------------------------------------------

SUBJECT_FIELDS = (
    "full_name", "role", "aliases", "date_of_birth", "nationality", "source_reliability",
    "information_assessment",
)
EARLIEST_BIRTH = datetime.date(1900, 1, 1)


def _normalise(identifier_type: str, value: str, region: str, field: str) -> str:
    try:
        return normalise_identifier(identifier_type, value, default_region=region)
    except InvalidIdentifier as exc:
        raise ValidationError({field: [exc.translated(gettext)]}) from None


def _clean_subject(subject: Subject, fields) -> None:
    """A subject's own rules, for adding and editing alike (each error names its field)."""
    if "aliases" in fields:
        aliases = subject.aliases
        if not isinstance(aliases, (list, tuple)) or len(aliases) > MAX_ALIASES or any(
            not isinstance(a, str) or not a.strip() or len(a) > MAX_ALIAS_CHARS for a in aliases
        ):
            raise ValidationError({"aliases": [
                _("at most %(n)d names of 1 to %(chars)d characters")
                % {"n": MAX_ALIASES, "chars": MAX_ALIAS_CHARS}
            ]})
        subject.aliases = [a.strip() for a in aliases]
    if "nationality" in fields and subject.nationality:
        try:
            subject.nationality = clean_country_code(subject.nationality, partner=False)
        except ValidationError as exc:
            raise ValidationError({"nationality": exc.messages}) from None
    _clean_fields(subject, [f for f in fields if f != "aliases"])  # also parses the date
    if "date_of_birth" in fields and subject.date_of_birth is not None and not (
        EARLIEST_BIRTH <= subject.date_of_birth <= timezone.now().date()
    ):
        raise ValidationError({"date_of_birth": [_("must be between 1900-01-01 and today")]})


def _wanted_identifiers(items, region: str) -> dict[tuple[str, str], str]:
    """{(type, normalised): value as entered}, each checked and normalised (field named)."""
    items = list(items)
    if len(items) > MAX_IDENTIFIERS_PER_SUBJECT:
        raise ValidationError({"identifiers": [
            _("at most %(n)d") % {"n": MAX_IDENTIFIERS_PER_SUBJECT}
        ]})
    wanted: dict[tuple[str, str], str] = {}
    for index, item in enumerate(items):
        kind, value = item["identifier_type"], item["value"]
        normalised = _normalise(kind, value, region, f"identifiers.{index}.value")
        wanted.setdefault((str(kind), normalised), value)
    return wanted


def _name_dob(subject: Subject, region: str) -> tuple[tuple[str, str], str] | None:
    """The name_dob identifier a subject's name and date of birth make, if it has a date."""
    if subject.date_of_birth is None:
        return None
    value = name_dob_value(subject.full_name, subject.date_of_birth)
    normalised = _normalise(IdentifierType.NAME_DOB, value, region, "full_name")
    return (IdentifierType.NAME_DOB.value, normalised), value


def _store_identifiers(subject: Subject, wanted: dict) -> int:
    """Insert the identifiers the subject does not hold yet; returns how many were new."""
    held = set(subject.identifiers.values_list("identifier_type", "normalised"))
    new = {key: value for key, value in wanted.items() if key not in held}
    if len(held) + len(new) > MAX_IDENTIFIERS_PER_SUBJECT:
        raise ValidationError({"identifiers": [
            _("a subject holds at most %(n)d identifiers") % {"n": MAX_IDENTIFIERS_PER_SUBJECT}
        ]})
    key_id, key = get_keyring().primary_lookup_key()
    Identifier.objects.bulk_create(
        Identifier(
            subject=subject, case_id=subject.case_id, identifier_type=kind, value=value,
            normalised=normalised, blind_index=blind_index(key, kind, normalised),
            lookup_key_id=key_id,
        )
        for (kind, normalised), value in new.items()
    )
    return len(new)


def _lock_for_edit(actor, case: Case) -> Case:
    """Lock the case (no key update: its grants and subjects may be written meanwhile) and
    check, under the lock, that the actor still edits it."""
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    _require_editor(actor, case)
    return case


def subject_add(
    *,
    case: Case,
    actor,
    full_name: str,
    role: str,
    aliases=(),
    date_of_birth: datetime.date | None = None,
    nationality: str = "",
    source_reliability: str = SourceReliability.X,
    information_assessment: str = InformationAssessment.UNCONFIRMED,
    identifiers=(),
) -> Subject:
    """Record a subject and their identifiers, each normalised and blind-indexed for lookup.

    A date of birth adds a `name_dob` identifier built from the name, so a partner's lookup of
    name and date of birth finds the subject. Phone numbers written without a country code
    are read as numbers of the case's owner country.
    """
    subject = Subject(
        case_id=case.pk,
        full_name=full_name,
        role=role,
        aliases=list(aliases),
        date_of_birth=date_of_birth,
        nationality=nationality or "",
        source_reliability=source_reliability,
        information_assessment=information_assessment,
        created_by=actor,
    )
    _clean_subject(subject, SUBJECT_FIELDS)
    region = case.owner_country_id
    wanted = _wanted_identifiers(identifiers, region)
    name_dob = _name_dob(subject, region)
    if name_dob is not None:
        wanted.setdefault(*name_dob)
    with transaction.atomic():
        case = _lock_for_edit(actor, case)
        subject.save(force_insert=True)
        _store_identifiers(subject, wanted)
        audit.record(
            "subject.add", actor, target=subject, case=case, role=subject.role,
            identifiers=len(wanted),
        )
    return subject


def subject_update(*, subject: Subject, actor, **changes) -> Subject:
    """Edit a subject's own fields (owner country's investigators); audits the changed names.

    A changed name or date of birth replaces the `name_dob` identifier they made, so a
    lookup finds the subject under what the case now says, not what it said.
    """
    unknown = sorted(set(changes) - set(SUBJECT_FIELDS))
    if unknown:
        raise ValidationError({name: [_("not a writable field")] for name in unknown})
    with transaction.atomic():
        case = _lock_for_edit(actor, subject.case)
        subject = Subject.objects.select_for_update().get(pk=subject.pk, case=case)
        region = case.owner_country_id
        before = _name_dob(subject, region)
        if "nationality" in changes:
            changes["nationality"] = changes["nationality"] or ""
        changed = sorted(n for n, value in changes.items() if getattr(subject, n) != value)
        for name in changed:
            setattr(subject, name, changes[name])
        _clean_subject(subject, changed)
        after = _name_dob(subject, region)
        if changed:
            subject.save(update_fields=[*changed, "updated_at"])
        if before != after:
            if before is not None:
                kind, normalised = before[0]
                subject.identifiers.filter(identifier_type=kind, normalised=normalised).delete()
            if after is not None:
                _store_identifiers(subject, dict([after]))
        audit.record("subject.update", actor, target=subject, case=case, fields=changed)
    subject.case = case
    return subject


def identifier_add(*, subject: Subject, actor, identifiers) -> Subject:
    """Add identifiers to a subject (owner country's investigators); ones the subject holds
    already are skipped. Audits how many of each type were new, never their values."""
    wanted = _wanted_identifiers(identifiers, subject.case.owner_country_id)
    if not wanted:
        raise ValidationError({"identifiers": [_("give at least one identifier")]})
    with transaction.atomic():
        case = _lock_for_edit(actor, subject.case)
        subject = Subject.objects.select_for_update().get(pk=subject.pk, case=case)
        added = _store_identifiers(subject, wanted)
        audit.record(
            "identifier.add", actor, target=subject, case=case, added=added,
            identifier_types=sorted({kind for kind, _normalised in wanted}),
        )
    subject.case = case
    return subject
