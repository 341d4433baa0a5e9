"""The case list's edges: parameters are a closed set, a `%` is just a character, and the
search finds subjects' names and aliases only where the member may see those subjects."""

import datetime as dt

import pytest
from django.utils import timezone

from cases import permissions
from cases.listing import case_list
from cases.models import SubjectRole

LIST = "/api/v1/cases/"


@pytest.mark.parametrize("query", ["owner_country=%25s", "owner_country=%25", "status=%25d"])
def test_a_percent_sign_in_a_filter_is_400_naming_the_parameter(us_investigator, api, query):
    response = api(us_investigator).get(f"{LIST}?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert response.json()["detail"].startswith(f"{name}: ")
    assert list(response.json()["errors"]) == [name]


def test_unknown_query_parameters_are_refused_by_name(us_investigator, api, case_factory,
                                                      audit_log):
    case_factory(us_investigator)
    response = api(us_investigator).get(f"{LIST}?colour=red&status=open&size=9")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "colour: unknown query parameter; size: unknown query parameter",
        "errors": {"colour": ["unknown query parameter"], "size": ["unknown query parameter"]},
    }
    assert audit_log(action="case.search") == []


def test_the_selector_refuses_them_too(us_investigator):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        case_list(us_investigator, params={"colour": "red"})
    assert refused.value.message_dict == {"colour": ["unknown query parameter"]}


@pytest.fixture
def ring(us_investigator, case_factory, subject_factory):
    """A US case whose words are nowhere but in its subjects (a recruiter with an alias, a
    victim), shared with MX at full scope and with GT at summary scope."""
    case = case_factory(us_investigator, title="Operation Norte", summary="Bus routes")
    subject_factory(case, us_investigator, full_name="Rigoberto Salazar",
                    aliases=["El Tecolote"], role=SubjectRole.RECRUITER)
    subject_factory(case, us_investigator, full_name="Ana Choc Tzul", role=SubjectRole.VICTIM)
    permissions.set_country_grants(case, "MX", permissions.SCOPES["full"])
    permissions.set_country_grants(case, "GT", permissions.SCOPES["summary"])
    return case


def found(api, user, q):
    response = api(user).get(LIST, {"q": q})
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("q", ["salazar", "TECOLOTE", "ana choc"])
def test_the_owner_finds_a_case_by_any_subjects_name_or_alias(ring, us_investigator, api, q):
    assert found(api, us_investigator, q) == [str(ring.pk)]


def test_a_full_partner_finds_it_by_the_recruiter_but_never_by_the_withheld_victim(
        ring, mx_investigator, api):
    assert found(api, mx_investigator, "salazar") == [str(ring.pk)]
    assert found(api, mx_investigator, "tecolote") == [str(ring.pk)]
    assert found(api, mx_investigator, "ana choc") == []


def test_a_named_victim_is_found_by_the_partner_it_was_named_to(ring, mx_investigator, api):
    victim = ring.subjects.get(role=SubjectRole.VICTIM)
    permissions.set_subject_grants(ring, "MX", {victim.pk: timezone.now() + dt.timedelta(days=1)})
    assert found(api, mx_investigator, "ana choc") == [str(ring.pk)]


def test_a_summary_partner_sees_no_subject_so_finds_nothing_by_one(ring, gt_investigator, api):
    assert found(api, gt_investigator, "salazar") == []
    assert found(api, gt_investigator, "norte") == [str(ring.pk)]  # the header it does see


def test_no_one_else_finds_it_by_a_subject(ring, make_member, api):
    assert found(api, make_member("GT", "liaison"), "tecolote") == []


def test_json_syntax_in_the_search_does_not_match_every_alias_list(ring, us_investigator, api):
    assert found(api, us_investigator, '"') == []
    assert found(api, us_investigator, "[") == []


def test_share_request_list_refuses_unknown_parameters_by_name(us_investigator, api):
    response = api(us_investigator).get("/api/v1/share-requests/?colour=red")
    assert response.status_code == 400
    assert response.json()["errors"] == {"colour": ["unknown query parameter"]}


def test_share_request_list_checks_the_country_code(us_investigator, api):
    response = api(us_investigator).get("/api/v1/share-requests/?recipient_country=%25s")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["recipient_country"]
    assert api(us_investigator).get(
        "/api/v1/share-requests/?recipient_country=mx").status_code == 200
