"""The OpenAPI schema documents what the API really answers (workinggroup.schema_api)."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


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
    assert {"409", "413", "415"} <= set(ops[("POST", "/api/v1/share-requests/")])
    assert "404" in ops[("GET", "/api/v1/cases/{case_id}/")]
    assert "404" not in ops[("GET", "/api/v1/me/")]
    assert "429" not in ops[("GET", "/api/v1/cases/")]


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
