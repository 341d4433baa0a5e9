"""The OpenAPI schema as the contract partner agencies' clients rely on (drf-spectacular).

One AutoSchema for every operation adds what views cannot each be trusted to repeat, from
how the API really answers (workinggroup.api_errors, workinggroup.exceptions):

- every error status an operation can produce, each `{"detail": ..., "errors"?: {...}}`:
  401 and 403 everywhere (a token, then MFA and role checks), 400 everywhere (a bad body or
  parameter, an unknown query parameter included), 404 where a path names an
  object or a list pages (a page past the end), 409 on state changes, 413 and 415 where a
  body is read, 429 on the lookup, 503 everywhere (the database, or Redis for lookups; with
  Retry-After), 507 on uploads;
- request text that must not be blank has `minLength: 1`, and no text may hold NUL;
- request bodies that refuse unknown keys (the StrictInput serializers, recognised by their
  `read_only_names`) say `additionalProperties: false`;
- `page` runs from 1 to MAX_PAGE, `page_size` from 1.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

ERROR_COMPONENT = ResolvedComponent(
    name="Error",
    type=ResolvedComponent.SCHEMA,
    object="Error",
    schema={
        "type": "object",
        "properties": {
            "detail": {"type": "string", "description": "What was wrong, naming the field."},
            "errors": {"type": "object", "additionalProperties": True,
                       "description": "Validation errors by field (400 only)."},
        },
        "required": ["detail"],
    },
)
NO_NUL = "^[^\\x00]*$"
# Lists refuse a page number past this with 400 (cases.api); below it, past the end is 404.
MAX_PAGE = 10**6
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 0},
                               "description": "Seconds to wait before trying again."}}
DESCRIPTIONS = {
    "400": "Bad input: `detail` names each bad field or parameter.",
    "401": "No valid token or session (or two-factor sign-in unfinished).",
    "403": "Seen but not allowed for this member.",
    "404": "Not found, or not visible to this member (existence never leaks).",
    "409": "The object is not in a state that allows this step.",
    "413": "The body is larger than the limit `detail` names.",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests; see Retry-After.",
    "503": "A service it needs cannot be reached just now; see Retry-After.",
    "507": "The file store has no space left; nothing was stored.",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema with the project's error answers and input bounds."""

    def _error_statuses(self) -> set[str]:
        method, path = self.method.upper(), self.path
        # 400 everywhere: even an operation without parameters refuses unknown ones.
        statuses = {"400", "401", "403", "503"}
        has_body = method in {"POST", "PUT", "PATCH"}
        if "{" in path or self._is_list_view():
            statuses.add("404")
        if has_body or method == "DELETE":
            statuses |= {"409"}
        if has_body:
            statuses |= {"413", "415"}
        if path.rstrip("/").endswith("/lookup"):
            statuses.add("429")
        if has_body and path.rstrip("/").endswith("/attachments"):
            statuses.add("507")
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/v1/"):
            return responses
        self.registry.register_on_missing(ERROR_COMPONENT)
        for status in self._error_statuses() | {s for s in responses if s >= "400"}:
            response = {
                "description": DESCRIPTIONS.get(status, "Error."),
                "content": {"application/json": {"schema": ERROR_COMPONENT.ref}},
            }
            if status in {"429", "503"}:
                response["headers"] = RETRY_AFTER
            responses[status] = response
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (direction == "request" and isinstance(field, serializers.CharField)
                and not field.allow_blank and isinstance(schema, dict)
                and schema.get("type") == "string" and "enum" not in schema
                and "format" not in schema):
            schema.setdefault("minLength", 1)
        if (direction == "request" and isinstance(field, serializers.CharField)
                and isinstance(schema, dict) and schema.get("type") == "string"
                and "enum" not in schema and "format" not in schema):
            schema.setdefault("pattern", NO_NUL)  # DRF refuses NUL characters in text
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and hasattr(serializer, "read_only_names"):
            schema["additionalProperties"] = False
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        # `page` and `page_size`, whether from a paginator or declared by the view.
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("in") == "query" and parameter.get("name") in {"page", "page_size"}:
                parameter.setdefault("schema", {})["minimum"] = 1
                if parameter["name"] == "page":
                    parameter["schema"]["maximum"] = MAX_PAGE
        return operation
