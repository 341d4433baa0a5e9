"""Editing a subject and adding identifiers to one: owner-country investigators only,
audited as subject.update and identifier.add, and the lookup follows what the case says."""

import pytest

from cases import permissions, services
from cases.models import Identifier, SubjectRole
from sharing import lookup

SUBJECT = "/api/v1/cases/{}/subjects/{}/"
IDENTIFIERS = "/api/v1/cases/{}/subjects/{}/identifiers/"


@pytest.fixture
def recruiter(us_investigator, case_factory, subject_factory):
    case = case_factory(us_investigator)
    return subject_factory(case, us_investigator, full_name="Rigoberto Salazar",
                           role=SubjectRole.RECRUITER, date_of_birth="1980-02-03",
                           identifiers=[{"identifier_type": "passport", "value": "G1234567"}])


def lookup_countries(user, identifier_type, value):
    result = lookup.lookup_identifier(user=user, identifier_type=identifier_type, value=value)
    return [hit["country"] for hit in result["hits"]]


def test_the_owner_investigator_edits_a_subject(recruiter, us_investigator, api, audit_log):
    response = api(us_investigator).patch(
        SUBJECT.format(recruiter.case_id, recruiter.pk),
        {"full_name": "Rigoberto Salazar Cruz", "aliases": ["El Tecolote"], "nationality": "mx"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["full_name"], body["aliases"], body["nationality"]) == (
        "Rigoberto Salazar Cruz", ["El Tecolote"], "MX")
    recruiter.refresh_from_db()
    assert recruiter.full_name == "Rigoberto Salazar Cruz"
    [entry] = audit_log(action="subject.update")
    assert entry.details == {"fields": ["aliases", "full_name", "nationality"]}
    assert (entry.target_id, entry.case_id) == (str(recruiter.pk), str(recruiter.case_id))


def test_a_new_name_moves_the_name_and_date_of_birth_identifier(
        recruiter, us_investigator, mx_investigator):
    old = {"identifier_type": "name_dob", "value": "Rigoberto Salazar 1980-02-03"}
    assert lookup_countries(mx_investigator, **old) == ["US"]
    services.subject_update(subject=recruiter, actor=us_investigator,
                            full_name="Rigoberto Salazar Cruz")
    assert lookup_countries(mx_investigator, **old) == []
    assert lookup_countries(mx_investigator, "name_dob",
                            "Rigoberto Salazar Cruz 1980-02-03") == ["US"]
    assert Identifier.objects.filter(subject=recruiter).count() == 2  # passport + name_dob


@pytest.mark.parametrize("body, field", [
    ({"nationality": "M1"}, "nationality"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"role": "boss"}, "role"),
    ({"identifiers": []}, "identifiers"),
    ({"full_name": ""}, "full_name"),
])
def test_bad_edits_are_400_naming_the_field_and_change_nothing(recruiter, us_investigator, api,
                                                              body, field, audit_log):
    response = api(us_investigator).patch(
        SUBJECT.format(recruiter.case_id, recruiter.pk), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    recruiter.refresh_from_db()
    assert (recruiter.full_name, recruiter.nationality, recruiter.role) == (
        "Rigoberto Salazar", "", "recruiter")
    assert audit_log(action="subject.update") == []


def test_identifiers_are_added_skipping_those_held_and_audited_without_values(
        recruiter, us_investigator, mx_investigator, api, audit_log):
    response = api(us_investigator).post(
        IDENTIFIERS.format(recruiter.case_id, recruiter.pk),
        {"identifiers": [{"identifier_type": "passport", "value": "g 123 4567"},
                         {"identifier_type": "phone", "value": "+52 55 1234 5678"}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    types = sorted(i["identifier_type"] for i in response.json()["identifiers"])
    assert types == ["name_dob", "passport", "phone"]
    [entry] = audit_log(action="identifier.add")
    assert entry.details == {"added": 1, "identifier_types": ["passport", "phone"]}
    assert "5678" not in str(entry.details)
    assert lookup_countries(mx_investigator, "phone", "+525512345678") == ["US"]


def test_an_invalid_identifier_is_400_naming_it_and_nothing_is_added(recruiter, us_investigator,
                                                                    api):
    response = api(us_investigator).post(
        IDENTIFIERS.format(recruiter.case_id, recruiter.pk),
        {"identifiers": [{"identifier_type": "phone", "value": "+52 55 1234 5678"},
                         {"identifier_type": "email", "value": "not an address"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "identifiers" in response.json()["errors"]
    assert Identifier.objects.filter(subject=recruiter).count() == 2


@pytest.mark.parametrize("who, status", [
    ("us_liaison", 403), ("mx_investigator", 403), ("gt_investigator", 404),
    ("us_auditor", 403), ("administrator", 403),
])
def test_only_owner_country_investigators_change_subjects(recruiter, request, api, who, status,
                                                          audit_log):
    permissions.set_country_grants(recruiter.case, "MX", permissions.SCOPES["full"])
    client = api(request.getfixturevalue(who))
    patched = client.patch(SUBJECT.format(recruiter.case_id, recruiter.pk),
                           {"full_name": "X"}, format="json")
    added = client.post(IDENTIFIERS.format(recruiter.case_id, recruiter.pk),
                        {"identifiers": [{"identifier_type": "passport", "value": "X99"}]},
                        format="json")
    assert (patched.status_code, added.status_code) == (status, status)
    recruiter.refresh_from_db()
    assert recruiter.full_name == "Rigoberto Salazar"
    assert Identifier.objects.filter(subject=recruiter).count() == 2
    assert len(audit_log(action="access.denied")) == 2
    assert audit_log(action="subject.update") == audit_log(action="identifier.add") == []


def test_a_subject_of_another_case_or_a_malformed_id_is_404(recruiter, us_investigator, api,
                                                             case_factory):
    other = case_factory(us_investigator)
    client = api(us_investigator)
    assert client.patch(SUBJECT.format(other.pk, recruiter.pk), {"full_name": "X"},
                        format="json").status_code == 404
    assert client.patch(SUBJECT.format(recruiter.case_id, "nope"), {"full_name": "X"},
                        format="json").status_code == 404
