"""The case API: list, create, detail, edit and subjects, as DESIGN.md's contract v1 says."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import permissions
from cases.models import Case, Identifier
from cases.permissions import SCOPES

CASE_FIELDS = {
    "id", "reference", "title", "summary", "case_type", "status", "owner_country",
    "handling_code", "handling_note", "source_reliability", "information_assessment",
    "created_at", "updated_at",
}
SECRET_FIELDS = ("blind_index", "normalised", "lookup_key_id")


@pytest.fixture
def us_case(us_investigator, case_factory):
    return case_factory(us_investigator, title="Coyote ring", summary="Crossings at Tecún Umán",
                        handling_code="H3", handling_note="Not for court use")


# --- List ----------------------------------------------------------------------------------


def test_list_is_paginated_newest_first_with_count(us_investigator, api, case_factory):
    made = [case_factory(us_investigator, title=f"case {n}") for n in range(3)]
    body = api(us_investigator).get("/api/v1/cases/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert [row["id"] for row in body["results"]] == [str(c.pk) for c in reversed(made)]
    assert set(body["results"][0]) == CASE_FIELDS


def test_list_pages_hold_fifty(us_investigator, api, case_factory):
    for n in range(51):
        case_factory(us_investigator, title=f"case {n}")
    first = api(us_investigator).get("/api/v1/cases/").json()
    assert (first["count"], len(first["results"])) == (51, 50)
    assert first["next"].endswith("/api/v1/cases/?page=2")
    second = api(us_investigator).get("/api/v1/cases/?page=2").json()
    assert len(second["results"]) == 1
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


@pytest.mark.parametrize("query,expected", [
    ("status=closed", {"closed one"}),
    ("case_type=smuggling", {"smuggling one"}),
    ("q=Tecún", {"open one"}),
    ("q=COYOTE", {"open one"}),
    ("q=-000002", {"closed one"}),
    ("owner_country=gt", {"shared by GT"}),
    ("owner_country=US&status=open", {"open one", "smuggling one"}),
])
def test_list_filters(us_investigator, gt_investigator, api, case_factory, query, expected):
    case_factory(us_investigator, title="open one", summary="coyote ring at Tecún Umán")
    case_factory(us_investigator, title="closed one", status="closed")
    case_factory(us_investigator, title="smuggling one", case_type="smuggling")
    shared = case_factory(gt_investigator, title="shared by GT")
    case_factory(gt_investigator, title="coyote unshared")
    permissions.set_country_grants(shared, "US", SCOPES["summary"])
    body = api(us_investigator).get(f"/api/v1/cases/?{query}").json()
    assert {row["title"] for row in body["results"]} == expected
    assert body["count"] == len(expected)


def test_every_list_is_audited_with_its_filters(us_investigator, api, case_factory, audit_log):
    case_factory(us_investigator)
    api(us_investigator).get("/api/v1/cases/")
    api(us_investigator).get("/api/v1/cases/?q=ring&status=open&owner_country=us")
    first, second = audit_log(action="case.search")
    assert first.details == {"filters": {}, "page": 1, "count": 1}
    assert second.details == {
        "filters": {"q": "ring", "status": "open", "owner_country": "US"}, "page": 1, "count": 0,
    }
    assert second.actor == "us.investigator" and second.outcome == "success"


@pytest.mark.parametrize("query,field", [
    ("status=archived", "status"),
    ("case_type=kidnapping", "case_type"),
    ("owner_country=FR", "owner_country"),
    ("owner_country=U%00", "owner_country"),
    ("q=" + "x" * 101, "q"),
    ("q=a%00b", "q"),
    ("page=0", "page"),
    ("page=abc", "page"),
    ("page=-1", "page"),
    ("page=99999999999999999999", "page"),
])
def test_bad_filters_are_400_naming_the_filter(us_investigator, api, query, field):
    response = api(us_investigator).get(f"/api/v1/cases/?{query}")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: ")
    assert field in response.json()["errors"]


def test_page_beyond_the_last_is_404(us_investigator, api, case_factory):
    case_factory(us_investigator)
    assert api(us_investigator).get("/api/v1/cases/?page=2").status_code == 404


def test_list_query_count_does_not_grow_with_cases_or_pages(us_investigator, mx_investigator,
                                                           api, case_factory):
    def queries(path):
        client = api(us_investigator)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    case_factory(us_investigator)
    queries("/api/v1/cases/?q=warm")  # a process looks its group and permission ids up once
    few = queries("/api/v1/cases/")
    for n in range(120):
        case = case_factory(mx_investigator if n % 2 else us_investigator)
        if n % 2 and n % 3 == 0:
            permissions.set_country_grants(case, "US", SCOPES["full"])
    assert queries("/api/v1/cases/") == few
    assert queries("/api/v1/cases/?page=2") == few
    with_filters = queries("/api/v1/cases/?status=open&q=net")
    assert queries("/api/v1/cases/?status=open&q=net&page=1") == with_filters


# --- Create --------------------------------------------------------------------------------


def test_create_assigns_reference_and_owner_country(mx_investigator, api, audit_log):
    response = api(mx_investigator).post("/api/v1/cases/", {
        "title": "Red de enganchadores", "case_type": "trafficking", "summary": "Ofertas falsas",
        "handling_code": "H2", "source_reliability": "B", "information_assessment": "2",
    }, format="json")
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert body["reference"] == case.reference and case.reference.startswith("MX-")
    assert body["owner_country"] == "MX" and body["access"] == "owner"
    assert (body["handling_code"], body["source_reliability"], body["information_assessment"]) \
        == ("H2", "B", "2")
    assert body["status"] == "open"
    assert [e.target_id for e in audit_log(action="case.create")] == [str(case.pk)]


@pytest.mark.parametrize("body,fields", [
    ({"title": "t", "case_type": "trafficking", "reference": "US-2026-000001"}, {"reference"}),
    ({"title": "t", "case_type": "trafficking", "owner_country": "MX"}, {"owner_country"}),
    ({"title": "t", "case_type": "trafficking", "id": "x", "colour": 1}, {"id", "colour"}),
    ({"title": 42, "case_type": "trafficking"}, {"title"}),
    ({"title": ["a"], "case_type": {"a": 1}}, {"title", "case_type"}),
    ({"title": "t", "case_type": "kidnapping"}, {"case_type"}),
    ({"title": "", "case_type": "trafficking"}, {"title"}),
    ({"case_type": "trafficking"}, {"title"}),
    ({"title": "x" * 201, "case_type": "trafficking"}, {"title"}),
    ({"title": "t", "case_type": "trafficking", "summary": "x" * 10001}, {"summary"}),
    ({"title": "t", "case_type": "trafficking", "handling_code": "H9"}, {"handling_code"}),
    ({"title": "t", "case_type": "trafficking", "handling_code": "H3"}, {"handling_note"}),
    ({"title": "t", "case_type": "trafficking", "handling_code": "H3",
      "handling_note": "   "}, {"handling_note"}),
    ({"title": "t", "case_type": "trafficking", "status": True}, {"status"}),
    ({"title": "t", "case_type": "trafficking", "source_reliability": "D",
      "information_assessment": 5}, {"source_reliability", "information_assessment"}),
    ({"title": "t", "case_type": "trafficking", "handling_note": "x" * 501}, {"handling_note"}),
    ({"title": None, "case_type": None}, {"title", "case_type"}),
    ({"title": "a\x00b", "case_type": "trafficking"}, {"title"}),
])
def test_bad_case_input_is_400_naming_each_field(us_investigator, api, body, fields):
    response = api(us_investigator).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == fields
    for field in fields:
        assert f"{field}: " in response.json()["detail"]
    assert not Case.objects.exists()


@pytest.mark.parametrize("raw,content_type", [
    ("[1, 2]", "application/json"),
    ('"text"', "application/json"),
    ("{not json", "application/json"),
    ("null", "application/json"),
    ("title=t", "text/plain"),
])
def test_malformed_bodies_are_4xx_never_500(us_investigator, api, raw, content_type):
    response = api(us_investigator).generic("POST", "/api/v1/cases/", raw,
                                            content_type=content_type)
    assert response.status_code in (400, 415)
    assert "detail" in response.json()


# --- Detail and edit -----------------------------------------------------------------------


def test_detail_shows_handling_code_and_is_audited(us_case, us_liaison, api, audit_log):
    response = api(us_liaison).get(f"/api/v1/cases/{us_case.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CASE_FIELDS | {"access"}
    assert (body["handling_code"], body["handling_note"]) == ("H3", "Not for court use")
    assert body["access"] == "owner"
    (entry,) = audit_log(action="case.view")
    assert (entry.actor, entry.case_id, entry.details) == (
        "us.liaison", str(us_case.pk), {"access": "owner"})


def test_partner_detail_says_its_scope(us_case, mx_liaison, api, audit_log):
    permissions.set_country_grants(us_case, "MX", SCOPES["full"])
    body = api(mx_liaison).get(f"/api/v1/cases/{us_case.pk}/").json()
    assert body["access"] == "full" and body["handling_code"] == "H3"
    assert audit_log(action="case.view")[0].details == {"access": "full"}


def test_patch_edits_and_audits_field_names(us_case, us_investigator, api, audit_log):
    response = api(us_investigator).patch(
        f"/api/v1/cases/{us_case.pk}/", {"status": "closed", "handling_code": "H1"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["handling_code"]) == ("closed", "H1")
    us_case.refresh_from_db()
    assert (us_case.status, us_case.handling_note) == ("closed", "Not for court use")
    assert audit_log(action="case.update")[0].details == {"fields": ["handling_code", "status"]}


@pytest.mark.parametrize("body,field", [
    ({"handling_note": ""}, "handling_note"),  # the case is H3
    ({"reference": "US-1999-000001"}, "reference"),
    ({"owner_country": "MX"}, "owner_country"),
    ({"status": "deleted"}, "status"),
    ({"title": 7}, "title"),
    ({"title": ""}, "title"),
    ({"summary": "x" * 10001}, "summary"),
])
def test_bad_patch_is_400_naming_the_field(us_case, us_investigator, api, body, field):
    response = api(us_investigator).patch(f"/api/v1/cases/{us_case.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_put_and_delete_are_not_offered(us_case, us_investigator, api):
    client = api(us_investigator)
    assert client.put(f"/api/v1/cases/{us_case.pk}/", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/cases/{us_case.pk}/").status_code == 405
    assert Case.objects.filter(pk=us_case.pk).exists()


def test_liaison_patch_is_403_even_with_a_bad_body(us_case, us_liaison, api, audit_log):
    response = api(us_liaison).patch(f"/api/v1/cases/{us_case.pk}/", {"status": 1},
                                     format="json")
    assert response.status_code == 403
    assert audit_log(action="access.denied")[0].details["status"] == 403


# --- Subjects ------------------------------------------------------------------------------


SUBJECT = {
    "full_name": "Rosa Méndez", "role": "recruiter", "aliases": ["La Güera"],
    "date_of_birth": "1988-07-14", "nationality": "gt", "source_reliability": "B",
    "information_assessment": "2",
    "identifiers": [
        {"identifier_type": "phone", "value": "+52 1 55 1234 5678"},
        {"identifier_type": "email", "value": "Rosa@Example.org"},
    ],
}


def test_add_and_list_subjects_with_identifiers(us_case, us_investigator, api, audit_log):
    client = api(us_investigator)
    response = client.post(f"/api/v1/cases/{us_case.pk}/subjects/", SUBJECT, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["nationality"] == "GT" and created["aliases"] == ["La Güera"]
    assert sorted((i["identifier_type"], i["value"]) for i in created["identifiers"]) == [
        ("email", "Rosa@Example.org"), ("name_dob", "Rosa Méndez 1988-07-14"),
        ("phone", "+52 1 55 1234 5678"),
    ]
    listed = client.get(f"/api/v1/cases/{us_case.pk}/subjects/").json()
    assert listed["count"] == 1 and listed["results"][0] == created
    assert Identifier.objects.get(identifier_type="phone").normalised == "+525512345678"
    assert [e.action for e in audit_log(case_id=str(us_case.pk))][-2:] == [
        "subject.add", "subject.view"]


def test_no_answer_carries_normalised_values_blind_indexes_or_key_ids(us_case, us_investigator,
                                                                      api):
    client = api(us_investigator)
    answers = [client.post(f"/api/v1/cases/{us_case.pk}/subjects/", SUBJECT, format="json"),
               client.get(f"/api/v1/cases/{us_case.pk}/subjects/"),
               client.get(f"/api/v1/cases/{us_case.pk}/"),
               client.get("/api/v1/cases/")]
    stored = Identifier.objects.values_list("blind_index", "lookup_key_id")
    for response in answers:
        text = response.content.decode()
        assert not any(name in text for name in SECRET_FIELDS)
        assert not any(index in text or key_id in text for index, key_id in stored)


def test_partner_with_full_scope_gets_no_victims(us_case, us_investigator, gt_investigator,
                                                 api, subject_factory):
    subject_factory(us_case, us_investigator, full_name="Ana Víctima", role="victim")
    subject_factory(us_case, us_investigator, full_name="Beto Testigo", role="witness")
    subject_factory(us_case, us_investigator, full_name="Carlos Jefe", role="organiser")
    permissions.set_country_grants(us_case, "GT", SCOPES["full"])
    body = api(gt_investigator).get(f"/api/v1/cases/{us_case.pk}/subjects/").json()
    assert [s["full_name"] for s in body["results"]] == ["Carlos Jefe"]
    assert body["count"] == 1  # the count does not betray the protected subjects either


@pytest.mark.parametrize("body,field", [
    ({**SUBJECT, "identifiers": [{"identifier_type": "phone", "value": "12"}]},
     "identifiers.0.value"),
    ({**SUBJECT, "identifiers": [{"identifier_type": "email", "value": "a@b.example"},
                                 {"identifier_type": "passport", "value": "П123"}]},
     "identifiers.1.value"),
    ({**SUBJECT, "identifiers": [{"identifier_type": "dna", "value": "x"}]},
     "identifiers.0.identifier_type"),
    ({**SUBJECT, "identifiers": [{"identifier_type": "email"}]}, "identifiers.0.value"),
    ({**SUBJECT, "identifiers": [{"identifier_type": "email", "value": 5}]},
     "identifiers.0.value"),
    ({**SUBJECT, "identifiers": [{"identifier_type": "email", "value": "a@b.c", "x": 1}]},
     "identifiers.0.x"),
    ({**SUBJECT, "identifiers": "+1 202 555 0143"}, "identifiers"),
    ({**SUBJECT, "identifiers": [{"identifier_type": "phone", "value": "+1"}] * 51},
     "identifiers"),
    ({**SUBJECT, "role": "boss"}, "role"),
    ({**SUBJECT, "full_name": ""}, "full_name"),
    ({**SUBJECT, "full_name": "x" * 201}, "full_name"),
    ({**SUBJECT, "full_name": "Agent 47"}, "full_name"),  # cannot form name + date of birth
    ({**SUBJECT, "date_of_birth": "14/07/1988"}, "date_of_birth"),
    ({**SUBJECT, "date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({**SUBJECT, "nationality": "GTM"}, "nationality"),
    ({**SUBJECT, "nationality": "1A"}, "nationality"),
    ({**SUBJECT, "aliases": "La Güera"}, "aliases"),
    ({**SUBJECT, "aliases": ["x" * 201]}, "aliases.0"),
    ({**SUBJECT, "aliases": [None]}, "aliases.0"),
    ({**SUBJECT, "source_reliability": "Z"}, "source_reliability"),
    ({**SUBJECT, "id": "00000000-0000-0000-0000-000000000000"}, "id"),
    ({**SUBJECT, "identifiers": [{"identifier_type": "email", "value": "a\x00@b.c"}]},
     "identifiers.0.value"),
    ({**SUBJECT, "aliases": ["a\x00"]}, "aliases.0"),
    ({**SUBJECT, "identifiers": [5]}, "identifiers.0"),
    ({**SUBJECT, "identifiers": [{"identifier_type": "email", "value": "a@b.c"}, []]},
     "identifiers.1"),
])
def test_bad_subject_input_is_400_naming_the_field(us_case, us_investigator, api, body, field):
    response = api(us_investigator).post(f"/api/v1/cases/{us_case.pk}/subjects/", body,
                                         format="json")
    assert response.status_code == 400, response.content
    assert f"{field}: " in response.json()["detail"], response.json()
    assert not Identifier.objects.exists()


# --- Every answer --------------------------------------------------------------------------


def test_case_answers_are_never_cached(us_case, us_investigator, mx_investigator, us_auditor,
                                       api):
    answers = [
        api(us_investigator).get("/api/v1/cases/"),
        api(us_investigator).get(f"/api/v1/cases/{us_case.pk}/"),
        api(us_investigator).get(f"/api/v1/cases/{us_case.pk}/subjects/"),
        api(us_investigator).post("/api/v1/cases/", {}, format="json"),
        api(mx_investigator).get(f"/api/v1/cases/{us_case.pk}/"),
        api(us_auditor).get("/api/v1/cases/"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 400, 404, 403]
    assert all(r["Cache-Control"] == "no-store" for r in answers)


def test_anonymous_is_401(us_case, api):
    for path in ("/api/v1/cases/", f"/api/v1/cases/{us_case.pk}/",
                 f"/api/v1/cases/{us_case.pk}/subjects/"):
        assert api(None).get(path).status_code == 401


def test_auditors_and_administrators_are_told_why(us_case, oversight_auditor, administrator,
                                                  api):
    auditor = api(oversight_auditor).get(f"/api/v1/cases/{us_case.pk}/")
    admin = api(administrator).get("/api/v1/cases/")
    assert auditor.status_code == admin.status_code == 403
    assert auditor.json() == {"detail": "auditors do not read case content"}
    assert admin.json() == {"detail": "administrators do not read case content"}


def test_token_authenticated_list(us_case, us_investigator, client):
    from workinggroup import members

    _, key = members.token_issue(user=us_investigator, actor=None)
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200 and response.json()["count"] == 1


def test_schema_describes_the_case_endpoints(db, api, us_investigator):
    schema = api(us_investigator).get("/api/schema/?format=json")
    paths = json.loads(schema.content)["paths"]
    assert {"/api/v1/cases/", "/api/v1/cases/{case_id}/",
            "/api/v1/cases/{case_id}/subjects/"} <= set(paths)
    text = schema.content.decode()
    assert not any(name in text for name in SECRET_FIELDS)
