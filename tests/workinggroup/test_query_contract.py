"""The API answers what its schema says about query strings and text (workinggroup.query_api,
workinggroup.schema_api): an empty parameter is refused by name, pages run from 1 and past
the end is a 404, a text limit counts the text as sent, a partner country is a partner's."""

import pytest

from workinggroup.query_api import EMPTY_VALUE

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path, names", [
    ("/api/v1/share-requests/?status=&case=&origin=", ["case", "origin", "status"]),
    ("/api/v1/cases/?handling_code=&owner_country=", ["handling_code", "owner_country"]),
    ("/api/v1/cases/?q=", ["q"]),
    ("/api/v1/plans/?status=", ["status"]),
    ("/api/v1/tasks/?page=", ["page"]),
    ("/api/v1/plans/invitations/?page=", ["page"]),
])
def test_an_empty_filter_is_refused_naming_it(api, us_investigator, path, names):
    response = api(us_investigator).get(path)
    assert response.status_code == 400
    assert response.json()["errors"] == {name: [str(EMPTY_VALUE)] for name in names}


def test_an_auditor_empty_until_is_refused_naming_it(api, us_auditor):
    response = api(us_auditor).get("/api/v1/audit/entries/?until=&actor=x")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "until": ["may not be empty: leave the parameter out instead"]}


def test_text_with_nul_in_a_query_is_refused_naming_it(api, us_investigator):
    """As the schema's pattern says (found by the fuzzing run: `q=%00` was "valid")."""
    response = api(us_investigator).get("/api/v1/cases/?q=a%00b")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["q"]


def test_a_filter_left_out_means_no_filter(api, us_investigator, make_case):
    make_case("US")
    response = api(us_investigator).get("/api/v1/cases/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("page", ["0", "-1", "x", "1000001"])
def test_a_page_number_outside_the_schema_is_a_400_naming_page(api, us_investigator, page):
    for path in ("/api/v1/cases/", "/api/v1/tasks/"):
        response = api(us_investigator).get(f"{path}?page={page}")
        assert response.status_code == 400, path
        assert list(response.json()["errors"]) == ["page"]


def test_a_page_past_the_last_is_a_json_404(api, us_investigator, make_case):
    make_case("US")
    for path in ("/api/v1/cases/?page=2", "/api/v1/tasks/?page=2"):
        response = api(us_investigator).get(path)
        assert response.status_code == 404, path
        assert "detail" in response.json()


@pytest.mark.parametrize("size", ["0", "1001", "x"])
def test_a_page_size_outside_the_schema_is_a_400_naming_it(api, us_auditor, size):
    response = api(us_auditor).get(f"/api/v1/audit/entries/?page_size={size}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


def test_a_text_limit_counts_the_text_as_sent(api, us_investigator):
    """maxLength in the schema counts every character: 200 letters in 204 characters with
    spaces around them are too long, as the schema says, though trimming would fit them."""
    body = {"title": "  " + "a" * 199 + "  ", "case_type": "trafficking"}
    response = api(us_investigator).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["title"]
    body["title"] = " " + "a" * 198 + " "
    assert api(us_investigator).post("/api/v1/cases/", body, format="json").status_code == 201


def test_a_recipient_country_is_a_partner(api, us_investigator, make_case):
    case = make_case("US")
    body = {"case": str(case.pk), "recipient_country": "FR", "scope": "summary",
            "justification": "joint work", "expires_at": "2099-01-01T00:00:00Z"}
    response = api(us_investigator).post("/api/v1/share-requests/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["recipient_country"]


def test_the_case_shares_answer_is_a_page(api, us_investigator, make_case):
    case = make_case("US")
    response = api(us_investigator).get(f"/api/v1/cases/{case.pk}/shares/")
    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None, "previous": None}
