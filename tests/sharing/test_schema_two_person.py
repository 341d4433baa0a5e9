"""The OpenAPI schema describes issue 18: the new states, fields, the renew endpoint and
the answer to an offer to several partners."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture
def schema(db):  # the partner countries' enum is read from the Country table
    return SchemaGenerator().get_schema(request=None, public=True)


def component(schema, ref):
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_the_status_enum_has_the_new_states(schema):
    share = schema["components"]["schemas"]["ShareRequest"]
    status = component(schema, share["properties"]["status"]["allOf"][0])
    assert status["enum"] == ["pending", "awaiting_second_approval", "approved", "denied",
                              "revoked", "expired", "cancelled"]
    assert "Awaiting a second approval" in status["description"]


def test_a_request_carries_its_approvals(schema):
    properties = schema["components"]["schemas"]["ShareRequest"]["properties"]
    approvals = properties["approvals"]
    assert (approvals["type"], approvals["nullable"]) == ("array", True)
    assert set(component(schema, approvals["items"])["properties"]) == {
        "liaison", "approved_at", "note"}
    assert (properties["approvals_needed"]["type"], properties["approvals_needed"]["nullable"]) == (
        "integer", True)
    assert properties["approvals_given"]["type"] == "integer"
    assert (properties["renews"]["format"], properties["renews"]["nullable"]) == ("uuid", True)
    assert properties["decided_by"]["nullable"] is True


def test_the_open_body_takes_recipient_countries_and_answers_one_or_several(schema):
    post = schema["paths"]["/api/v1/share-requests/"]["post"]
    body = component(schema, post["requestBody"]["content"]["application/json"]["schema"])
    countries = body["properties"]["recipient_countries"]
    assert (countries["type"], countries["minItems"]) == ("array", 1)
    # Each item is a partner country's code, as `recipient_country` is.
    assert countries["items"] == body["properties"]["recipient_country"]
    assert sorted(component(schema, countries["items"])["enum"]) == ["GT", "MX", "US"]
    answer = component(schema, post["responses"]["201"]["content"]["application/json"][
        "schema"])
    one, several = answer["oneOf"]
    assert one == {"$ref": "#/components/schemas/ShareRequest"}
    results = component(schema, several)["properties"]["results"]
    assert results["items"] == {"$ref": "#/components/schemas/ShareRequest"}
    assert "recipient_countries" in post["description"]


def test_the_renew_endpoint_is_described(schema):
    post = schema["paths"]["/api/v1/share-requests/{id}/renew/"]["post"]
    body = component(schema, post["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"justification", "expires_at"}
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ShareRequest"}
    assert {"403", "404", "409"} <= set(post["responses"])
