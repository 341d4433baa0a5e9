"""Every write to a case, its subjects and identifiers: one function each, audited.

Each service runs in one transaction, locks the row it decides on, re-checks the actor's
right to act under that lock, and calls `audit.record` in the same transaction. Refusals are
Django's PermissionDenied (403: the actor sees the case but may not act) and CaseNotFound
(404); bad input is a ValidationError whose dict names each field, as the API reports it.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

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
)
from core.keyring import get_keyring

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
    if handling_code == HandlingCode.H3 and not handling_note.strip():
        raise ValidationError(
            {"handling_note": ["required with handling code H3: state the restriction"]}
        )


def _clean_fields(instance, fields) -> None:
    """Field rules (choices, lengths, blanks) for callers that are not the API, no queries."""
    exclude = [f.name for f in instance._meta.fields if f.name not in fields]
    instance.clean_fields(exclude=exclude)


def _require_editor(actor, case: Case) -> None:
    """Only the owner country's investigators change a case or add to it."""
    if not permissions.can_edit_case(actor, case):
        raise PermissionDenied("only the owner country's investigators change a case")


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
    if not permissions.can_create_case(actor):
        raise PermissionDenied("only investigators create cases")
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
    return case


def case_update(*, case: Case, actor, **changes) -> Case:
    """Edit a case's fields (owner country's investigators); audits the changed field names."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: ["not a writable field"] for name in unknown})
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
    return case


def _normalise(identifier_type: str, value: str, region: str, field: str) -> str:
    try:
        return normalise_identifier(identifier_type, value, default_region=region)
    except InvalidIdentifier as exc:
        raise ValidationError({field: [exc.problem]}) from None


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
    aliases = list(aliases)
    if len(aliases) > MAX_ALIASES or any(
        not isinstance(a, str) or not a.strip() or len(a) > MAX_ALIAS_CHARS for a in aliases
    ):
        raise ValidationError(
            {"aliases": [f"at most {MAX_ALIASES} names of 1 to {MAX_ALIAS_CHARS} characters"]}
        )
    identifiers = list(identifiers)
    if len(identifiers) > MAX_IDENTIFIERS_PER_SUBJECT:
        raise ValidationError({"identifiers": [f"at most {MAX_IDENTIFIERS_PER_SUBJECT}"]})
    subject = Subject(
        case_id=case.pk,
        full_name=full_name,
        role=role,
        aliases=[a.strip() for a in aliases],
        date_of_birth=date_of_birth,
        nationality=(nationality or "").upper(),
        source_reliability=source_reliability,
        information_assessment=information_assessment,
        created_by=actor,
    )
    _clean_fields(
        subject,
        ["full_name", "role", "date_of_birth", "nationality", "source_reliability",
         "information_assessment"],
    )
    region = case.owner_country_id
    wanted: dict[tuple[str, str], str] = {}  # (type, normalised) -> value as entered
    for index, item in enumerate(identifiers):
        kind, value = item["identifier_type"], item["value"]
        normalised = _normalise(kind, value, region, f"identifiers.{index}.value")
        wanted.setdefault((str(kind), normalised), value)
    if date_of_birth is not None:
        value = name_dob_value(full_name, date_of_birth)
        normalised = _normalise(IdentifierType.NAME_DOB, value, region, "full_name")
        wanted.setdefault((IdentifierType.NAME_DOB.value, normalised), value)

    key_id, key = get_keyring().primary_lookup_key()
    with transaction.atomic():
        case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
        _require_editor(actor, case)
        subject.save(force_insert=True)
        Identifier.objects.bulk_create(
            Identifier(
                subject=subject,
                case_id=case.pk,
                identifier_type=kind,
                value=value,
                normalised=normalised,
                blind_index=blind_index(key, kind, normalised),
                lookup_key_id=key_id,
            )
            for (kind, normalised), value in wanted.items()
        )
        audit.record(
            "subject.add", actor, target=subject, case=case, role=subject.role,
            identifiers=len(wanted),
        )
    return subject
