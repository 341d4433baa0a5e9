"""The OpenAPI schema documents what the API really answers (workinggroup.schema_api), and
the API answers what the schema says: these are the facts the fuzzing run
(tests/faults/test_schemathesis.py) relies on, checked here without it."""

import tomllib
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

from workinggroup.models import Country
from workinggroup.query_api import MAX_PAGE

FUZZ_CONFIG = Path(__file__).parents[1] / "faults" / "schemathesis.toml"
ERROR = {"$ref": "#/components/schemas/Error"}


_generated = {}


@pytest.fixture
def schema(db):
    """Generated once for the module; the partner countries' enum reads the Country table."""
    if "schema" not in _generated:
        _generated["schema"] = SchemaGenerator().get_schema(request=None, public=True)
    return _generated["schema"]


def component(schema, ref_holder):
    return schema["components"]["schemas"][ref_holder["$ref"].rsplit("/", 1)[1]]


def parameter(schema, method, path, name):
    [found] = [p for p in schema["paths"][path][method]["parameters"] if p["name"] == name]
    return found


def operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def test_every_api_operation_documents_its_error_answers_as_json(schema):
    for method, path, op in operations(schema):
        responses = op["responses"]
        for status in ("400", "401", "403", "503"):
            assert status in responses, (method, path, status)
        for status, response in responses.items():
            if status >= "400" and status != "500":
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}, (method, path, status)
        assert "Retry-After" in responses["503"]["headers"]
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"]


def test_statuses_where_they_happen(schema):
    ops = {(m, p): op["responses"] for m, p, op in operations(schema)}
    assert "429" in ops[("POST", "/api/v1/lookup/")]
    assert "507" in ops[("POST", "/api/v1/cases/{case_id}/attachments/")]
    assert "507" in ops[("POST", "/api/v1/gaps/{gap_id}/evidence/")]
    assert "507" not in ops[("POST", "/api/v1/cases/")]
    assert {"409", "413", "415"} <= set(ops[("POST", "/api/v1/share-requests/")])
    assert "404" in ops[("GET", "/api/v1/cases/{case_id}/")]
    assert "404" not in ops[("GET", "/api/v1/me/")]
    assert "429" not in ops[("GET", "/api/v1/cases/")]
    assert "406" in ops[("GET", "/api/v1/me/")]
    # The downloads and the export answer their one type whatever Accept asks.
    assert "406" not in ops[("GET", "/api/v1/attachments/{attachment_id}/content/")]
    assert "406" not in ops[("GET", "/api/v1/audit/export/")]


def test_request_bodies_refuse_unknown_keys_and_blank_text(schema):
    body = schema["paths"]["/api/v1/lookup/"]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    component = schema["components"]["schemas"][ref]
    assert component["additionalProperties"] is False
    assert component["properties"]["value"]["minLength"] == 1


def test_page_has_a_minimum(schema):
    params = schema["paths"]["/api/v1/cases/"]["get"]["parameters"]
    [page] = [p for p in params if p["name"] == "page"]
    assert page["schema"]["minimum"] == 1


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/share-requests/",
                                  "/api/v1/plans/", "/api/v1/tasks/", "/api/v1/gaps/"])
def test_page_runs_from_1_to_max_page_and_past_the_end_is_a_documented_404(schema, path):
    page = parameter(schema, "get", path, "page")
    assert (page["schema"]["type"], page["schema"]["minimum"], page["schema"]["maximum"]) == (
        "integer", 1, MAX_PAGE)
    not_found = schema["paths"][path]["get"]["responses"]["404"]
    assert not_found["content"]["application/json"]["schema"] == ERROR
    assert "a page past the last one" in not_found["description"]


def test_cursor_lists_bound_page_size_and_say_the_cursor_is_opaque(schema):
    size = parameter(schema, "get", "/api/v1/audit/entries/", "page_size")["schema"]
    assert (size["minimum"], size["maximum"]) == (1, 1000)
    cursor = parameter(schema, "get", "/api/v1/audit/entries/", "cursor")
    assert cursor["schema"]["minLength"] == 1
    assert "any other value is a 400" in cursor["description"]


def test_opening_a_share_documents_404_and_409_and_one_or_several_results(schema):
    post = schema["paths"]["/api/v1/share-requests/"]["post"]
    for status in ("400", "404", "409"):
        assert post["responses"][status]["content"]["application/json"]["schema"] == ERROR
    created = component(schema, post["responses"]["201"]["content"]["application/json"]["schema"])
    one, several = created["oneOf"]
    assert one == {"$ref": "#/components/schemas/ShareRequest"}
    assert component(schema, several)["properties"]["results"]["items"] == one
    assert "365 days" in post["description"]
    body = component(schema, post["requestBody"]["content"]["application/json"]["schema"])
    assert body["additionalProperties"] is False
    assert "365 days" in body["properties"]["expires_at"]["description"]


def test_a_partner_country_is_an_enum_of_the_partners_in_bodies_and_filters(schema):
    codes = sorted(Country.objects.values_list("code", flat=True))
    assert codes == ["GT", "MX", "US"]
    partner = schema["components"]["schemas"]["PartnerCountry"]
    assert partner["enum"] == codes
    body = schema["components"]["schemas"]["ShareRequestOpen"]
    assert body["properties"]["recipient_country"] == {
        "$ref": "#/components/schemas/PartnerCountry"}
    for path, name in (("/api/v1/share-requests/", "recipient_country"),
                       ("/api/v1/cases/", "owner_country")):
        assert parameter(schema, "get", path, name)["schema"]["enum"] == codes
    audit_country = parameter(schema, "get", "/api/v1/audit/entries/", "country")
    assert audit_country["schema"]["pattern"] == "^[A-Za-z]{2}$"


def test_text_filters_say_empty_is_not_a_value(schema):
    assert parameter(schema, "get", "/api/v1/cases/", "q")["schema"]["minLength"] == 1
    assert parameter(schema, "get", "/api/v1/cases/", "q")["schema"]["pattern"] == "^[^\\x00]*$"
    assert parameter(schema, "get", "/api/v1/audit/entries/", "actor")["schema"]["minLength"] == 1
    status = parameter(schema, "get", "/api/v1/share-requests/", "status")["schema"]
    assert "" not in status["enum"]


def test_required_text_must_hold_more_than_whitespace(schema):
    title = schema["components"]["schemas"]["CaseInput"]["properties"]["title"]
    assert title["minLength"] == 1
    assert title["pattern"] == "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
    note = schema["components"]["schemas"]["CaseInput"]["properties"]["handling_note"]
    assert "minLength" not in note
    assert "H3" in note["description"]


def test_the_case_shares_list_is_documented_as_the_page_it_answers(schema):
    ok = schema["paths"]["/api/v1/cases/{case_id}/shares/"]["get"]["responses"]["200"]
    page = component(schema, ok["content"]["application/json"]["schema"])
    assert set(page["required"]) == {"results", "next", "previous"}
    assert page["properties"]["next"]["nullable"] is True
    assert page["properties"]["results"]["items"] == {"$ref": "#/components/schemas/ShareRequest"}


def test_files_go_up_as_binary_multipart_and_come_down_with_their_type(schema):
    upload = schema["paths"]["/api/v1/cases/{case_id}/attachments/"]["post"]["requestBody"]
    form = component(schema, upload["content"]["multipart/form-data"]["schema"])
    assert form["properties"]["file"] == {"type": "string", "format": "binary", "minLength": 1,
                                          "description": "the evidence file"}
    assert form["required"] == ["file"]
    download = schema["paths"]["/api/v1/attachments/{attachment_id}/content/"]["get"]
    types = download["responses"]["200"]["content"]
    assert {"application/pdf", "image/png", "text/plain", "application/zip"} <= set(types)
    assert types["application/pdf"]["schema"] == {"type": "string", "format": "binary"}


def test_identifier_values_say_their_format_per_type(schema):
    value = schema["components"]["schemas"]["LookupInput"]["properties"]["value"]
    for kind in ("`phone`", "`email` an address with exactly one @", "`name_dob`"):
        assert kind in value["description"]


def test_objects_in_paths_are_named_by_uuid(schema):
    for _method, path, op in operations(schema):
        for param in op.get("parameters", []):
            if param["in"] == "path":
                assert param["schema"] == {"type": "string", "format": "uuid"}, (path, param)


def test_people_named_in_answers_may_be_null(schema):
    task = schema["components"]["schemas"]["TaskOutput"]["properties"]
    assert task["created_by"]["nullable"] is True


def test_the_fuzzing_allowances_name_operations_that_document_what_they_allow(schema):
    """Each operation tests/faults/schemathesis.toml lets answer a schema-valid request with
    400 (or 415) exists and documents that status: the list cannot go stale or hide one."""
    ops = {f"{m} {p}": op for m, p, op in operations(schema)}
    defaults = {"2xx", "3xx", "401", "403", "404", "409", "429", "5xx"}
    entries = tomllib.loads(FUZZ_CONFIG.read_text())["operations"]
    assert entries
    for entry in entries:
        allowed = set(entry["checks"]["positive_data_acceptance"]["expected-statuses"])
        extra = allowed - defaults
        assert extra and extra <= {"400", "415"} and defaults <= allowed, entry
        for name in entry["include-name"]:
            assert name in ops, name
            for status in extra:
                assert status in ops[name]["responses"], (name, status)
        assert set(entry) == {"include-name", "checks"}


def test_without_a_database_a_partner_country_is_two_capitals(monkeypatch):
    """`manage.py check --deploy` generates the schema, perhaps before any migration."""
    from django.db import DatabaseError

    from workinggroup import schema_api

    def no_table():
        raise DatabaseError("no such table: workinggroup_country")

    monkeypatch.setattr(schema_api.Country.objects, "order_by", lambda *a: no_table())
    assert schema_api.partner_country_schema() == {"type": "string", "pattern": "^[A-Z]{2}$"}
