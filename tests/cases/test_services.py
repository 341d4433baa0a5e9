"""Case, subject and identifier services: rules, numbering, identifiers and their audit."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from freezegun import freeze_time

from cases import permissions, services
from cases.identifiers import blind_index, normalise
from cases.models import Case, CaseCounter, Identifier, Subject
from core.keyring import get_keyring


def test_case_create_numbers_per_country_and_year(us_investigator, mx_investigator,
                                                   case_factory):
    first, second = case_factory(us_investigator), case_factory(us_investigator)
    mexican = case_factory(mx_investigator)
    year = first.created_at.year
    assert first.reference == f"US-{year}-000001"
    assert second.reference == f"US-{year}-000002"
    assert mexican.reference == f"MX-{year}-000001"
    assert (first.owner_country_id, first.year, first.number) == ("US", year, 1)


def test_numbering_starts_again_each_year(us_investigator, case_factory):
    with freeze_time("2026-12-31 23:59:00"):
        last = case_factory(us_investigator)
    with freeze_time("2027-01-01 00:00:01"):
        first = case_factory(us_investigator)
    assert (last.reference, first.reference) == ("US-2026-000001", "US-2027-000001")
    assert CaseCounter.objects.filter(country_id="US").count() == 2


def test_case_create_grants_the_owner_and_audits(us_investigator, case_factory, audit_log):
    case = case_factory(us_investigator, handling_code="H2")
    assert permissions.country_perms(case, "US") == permissions.OWNER_PERMS
    (entry,) = audit_log(action="case.create")
    assert (entry.actor, entry.actor_country, entry.case_id, entry.case_country) == (
        "us.investigator", "US", str(case.pk), "US")
    assert entry.details == {"reference": case.reference, "handling_code": "H2"}
    assert case.title not in str(entry.details)


@pytest.mark.parametrize("persona", ["us_liaison", "us_auditor", "administrator"])
def test_only_investigators_create_cases(db, request, persona, case_factory):
    user = request.getfixturevalue(persona)
    user.is_superuser = True  # opens nothing
    with pytest.raises(PermissionDenied):
        case_factory(user)
    assert not Case.objects.exists()


def test_h3_needs_its_restriction(us_investigator, case_factory):
    with pytest.raises(ValidationError) as info:
        case_factory(us_investigator, handling_code="H3", handling_note="  ")
    assert "handling_note" in info.value.message_dict
    case = case_factory(us_investigator, handling_code="H3", handling_note="No use in court")
    with pytest.raises(ValidationError):
        services.case_update(case=case, actor=us_investigator, handling_note="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(handling_note="")  # the database agrees


def test_service_checks_fields_for_callers_other_than_the_api(us_investigator, case_factory):
    with pytest.raises(ValidationError) as info:
        case_factory(us_investigator, case_type="kidnapping", title="x" * 201)
    assert set(info.value.message_dict) == {"case_type", "title"}


def test_case_update_audits_changed_field_names_not_values(us_investigator, case_factory,
                                                           audit_log):
    case = case_factory(us_investigator)
    updated = services.case_update(
        case=case, actor=us_investigator, title="Renamed network", status="open",
        handling_code="H1",
    )
    assert (updated.title, updated.handling_code) == ("Renamed network", "H1")
    (entry,) = audit_log(action="case.update")
    assert entry.details == {"fields": ["handling_code", "title"]}
    assert "Renamed" not in str(entry.details)


@pytest.mark.parametrize("persona", ["us_liaison", "mx_investigator", "administrator"])
def test_only_owner_country_investigators_update(db, request, persona, us_investigator,
                                                 case_factory):
    case = case_factory(us_investigator)
    permissions.set_country_grants(case, "MX", permissions.SCOPES["full_with_files"])
    with pytest.raises(PermissionDenied):
        services.case_update(case=case, actor=request.getfixturevalue(persona), title="x")
    case.refresh_from_db()
    assert case.title != "x"


def test_case_update_refuses_fields_that_are_not_editable(us_investigator, case_factory):
    case = case_factory(us_investigator)
    with pytest.raises(ValidationError) as info:
        services.case_update(case=case, actor=us_investigator, owner_country_id="MX",
                             reference="X")
    assert set(info.value.message_dict) == {"owner_country_id", "reference"}


def test_subject_add_normalises_and_blind_indexes_identifiers(us_investigator, case_factory,
                                                              subject_factory, audit_log):
    case = case_factory(us_investigator)
    subject = subject_factory(
        case, us_investigator, full_name="María de la Cruz", role="recruiter",
        date_of_birth=dt.date(1990, 3, 1),
        identifiers=[
            {"identifier_type": "phone", "value": "(202) 555-0143"},  # US case: US number
            {"identifier_type": "passport", "value": "g 1234-567"},
            {"identifier_type": "passport", "value": "G1234567"},  # the same passport
        ],
    )
    key_id, key = get_keyring().primary_lookup_key()
    rows = {i.identifier_type: i for i in Identifier.objects.filter(subject=subject)}
    assert sorted(rows) == ["name_dob", "passport", "phone"]
    assert rows["phone"].normalised == "+12025550143"
    assert rows["passport"].value == "g 1234-567"
    assert rows["name_dob"].normalised == normalise("name_dob", "Maria Cruz 1990-03-01")
    for row in rows.values():
        assert row.case_id == case.pk and row.lookup_key_id == key_id
        assert row.blind_index == blind_index(key, row.identifier_type, row.normalised)
    (entry,) = audit_log(action="subject.add")
    assert entry.details == {"role": "recruiter", "identifiers": 3}
    assert entry.case_id == str(case.pk) and "María" not in str(entry.details)


def test_bad_identifier_names_its_position_and_adds_nothing(us_investigator, case_factory,
                                                            subject_factory):
    case = case_factory(us_investigator)
    with pytest.raises(ValidationError) as info:
        subject_factory(case, us_investigator, identifiers=[
            {"identifier_type": "email", "value": "a@b.example"},
            {"identifier_type": "phone", "value": "12"},
        ])
    assert list(info.value.message_dict) == ["identifiers.1.value"]
    assert not Subject.objects.exists() and not Identifier.objects.exists()


def test_name_that_cannot_form_name_dob_is_refused(us_investigator, case_factory,
                                                   subject_factory):
    case = case_factory(us_investigator)
    with pytest.raises(ValidationError) as info:
        subject_factory(case, us_investigator, full_name="Agent 47",
                        date_of_birth=dt.date(1980, 1, 1))
    assert list(info.value.message_dict) == ["full_name"]


@pytest.mark.parametrize("persona", ["us_liaison", "mx_investigator", "gt_auditor"])
def test_only_owner_country_investigators_add_subjects(db, request, persona,
                                                       us_investigator,
                                                       case_factory, subject_factory):
    case = case_factory(us_investigator)
    permissions.set_country_grants(case, "MX", permissions.SCOPES["full"])
    with pytest.raises(PermissionDenied):
        subject_factory(case, request.getfixturevalue(persona))
    assert not Subject.objects.exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_creations_get_distinct_consecutive_references(postgres, make_member):
    """50 investigators' threads open cases at once: 50 references, 1..50, no gaps."""
    investigator = make_member("GT", "investigator")
    barrier, results, errors = threading.Barrier(50), [], []

    def create():
        try:
            barrier.wait()
            case = services.case_create(actor=investigator, title="t", case_type="smuggling")
            results.append(case.reference)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    year = dt.datetime.now(dt.UTC).year
    assert sorted(results) == [f"GT-{year}-{n:06d}" for n in range(1, 51)]
    assert CaseCounter.objects.get(country_id="GT", year=year).last_number == 50
    assert Case.objects.filter(owner_country_id="GT").count() == 50
