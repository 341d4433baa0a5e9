"""The OpenAPI schema as the contract partner agencies' clients rely on (drf-spectacular).

One AutoSchema for every operation adds what views cannot each be trusted to repeat, from
how the API really answers (workinggroup.api_errors, workinggroup.exceptions):

- every error status an operation can produce, each `{"detail": ..., "errors"?: {...}}`:
  401 and 403 everywhere (a token, then MFA and role checks), 400 everywhere (a bad body or
  parameter, an unknown query parameter included), 406 wherever DRF negotiates the answer's
  type (a 405, for a method a path does not have, belongs to no operation: it is JSON with
  `Allow`, and undocumented per operation), 404 where a path names an
  object or a list pages (a page past the end), 409 on state changes, 413 and 415 where a
  body is read, 429 on the lookup, 503 everywhere (the database, or Redis for lookups; with
  Retry-After), 507 on uploads;
- request text that must not be blank has `minLength: 1`, and no text may hold NUL;
- request bodies that refuse unknown keys (the StrictInput serializers, recognised by their
  `read_only_names`) say `additionalProperties: false`;
- a path's object id (`id`, `case_id`, ...) is a UUID;
- `page` runs from 1 to MAX_PAGE, `page_size` from 1; a page past the last is the 404 that
  every list documents;
- a query parameter given is never empty (workinggroup.query_api refuses `?status=` with 400):
  text parameters say `minLength: 1`, typed ones (enum, UUID, date-time) exclude "" already;
- a partner country's code is an `enum` of the Country table's codes, read when the schema
  is generated (PartnerCountryField in bodies; filters marked `partner_country` in queries).

Rules no JSON Schema 3.0 keyword expresses (cross-field ones: H3 needs a note, `until` after
`since`, an expiry in the future and within 365 days; a reference to an object the caller
cannot use; a file's type sniffed from its bytes) are stated in the field or operation
description and answer 400 (415 for a file type) with `detail` naming the field. The fuzzing
run (tests/faults/schemathesis.toml) lists each operation that has such a rule.

Helpers for views: `results_page` (a `{results, next, previous}` page without a count) and
`one_or_results` (an answer that is one object, or `{results: [...]}` when several were made).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import PolymorphicProxySerializer, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser

from workinggroup.models import Country, clean_country_code
from workinggroup.query_api import MAX_PAGE

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
# Text DRF trims and then refuses when blank: something besides whitespace (and no NUL).
NOT_BLANK = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
# A well-formed country code that need not be a partner's (a subject's nationality); the
# server upper-cases it.
COUNTRY_CODE_PATTERN = "^[A-Za-z]{2}$"
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 0},
                               "description": "Seconds to wait before trying again."}}
DESCRIPTIONS = {
    "400": "Bad input: `detail` names each bad field or parameter.",
    "401": "No valid token or session (or two-factor sign-in unfinished).",
    "403": "Seen but not allowed for this member.",
    "404": ("Not found, or not visible to this member (existence never leaks); on a list, "
            "a page past the last one."),
    "406": "The Accept header names no type this operation answers (JSON).",
    "409": "The object is not in a state that allows this step.",
    "413": "The body is larger than the limit `detail` names.",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests; see Retry-After.",
    "503": "A service it needs cannot be reached just now; see Retry-After.",
    "507": "The file store has no space left; nothing was stored.",
}


def partner_country_codes() -> list[str] | None:
    """The working group's partner countries, as the schema's enum of a country field; None
    without a database to ask (`manage.py check --deploy` generates the schema, perhaps
    before the first migration)."""
    try:
        return list(Country.objects.order_by("code").values_list("code", flat=True))
    except DatabaseError:
        return None


def partner_country_schema() -> dict:
    codes = partner_country_codes()
    if codes is None:
        return {"type": "string", "pattern": "^[A-Z]{2}$"}
    return {"type": "string", "enum": codes}


class PartnerCountryField(serializers.CharField):
    """A partner country's code (ISO 3166 alpha-2 of a Country row); the value is upper-cased.

    The schema gives it the partner codes as an `enum`, so a generated body never names a
    country the server refuses."""

    default_error_messages = {"invalid": _("Must be a string.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return clean_country_code(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


def results_page(name: str, serializer_class) -> serializers.Serializer:
    """The schema of `{results, next, previous}`: a whole list in one page, links null."""
    return inline_serializer(name, {
        "results": serializer_class(many=True),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
    })


def one_or_results(name: str, serializer_class) -> PolymorphicProxySerializer:
    """The schema of an answer that is one object, or `{results: [...]}` of several."""
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[serializer_class,
                     inline_serializer(f"{name}Results",
                                       {"results": serializer_class(many=True)})],
        resource_type_field_name=None,
    )


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
        # A file upload (a case's attachments, a gap's evidence) streams to the file store.
        if has_body and any(issubclass(parser, MultiPartParser)
                            for parser in getattr(self.view, "parser_classes", ())):
            statuses.add("507")
        # DRF's negotiation refuses an Accept naming no JSON type; the downloads and the
        # export answer their one type whatever the client asks.
        if getattr(self.view, "content_negotiation_class", None) is DefaultContentNegotiation:
            statuses.add("406")
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
        if isinstance(field, PartnerCountryField):
            component = ResolvedComponent(
                name="PartnerCountry", type=ResolvedComponent.SCHEMA, object="PartnerCountry",
                schema={**partner_country_schema(),
                        "description": "A partner country's code (ISO 3166 alpha-2)."},
            )
            self.registry.register_on_missing(component)
            return component.ref
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (direction == "request" and isinstance(field, serializers.CharField)
                and not field.allow_blank and isinstance(schema, dict)
                and schema.get("type") == "string" and "enum" not in schema
                and "format" not in schema):
            schema.setdefault("minLength", 1)
            if field.trim_whitespace:  # DRF trims, then refuses what is left blank
                schema.setdefault("pattern", NOT_BLANK)
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
        filters = getattr(getattr(self.view, "filterset_class", None), "base_filters", {})
        paginator = getattr(self.view, "pagination_class", None)
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("in") == "path" and (parameter.get("name") == "id"
                                                  or parameter.get("name", "").endswith("_id")):
                # Every object is named by a UUID; any other value is a 404 like an unseen one.
                parameter.setdefault("schema", {}).setdefault("format", "uuid")
            if parameter.get("in") != "query":
                continue
            name, schema = parameter.get("name"), parameter.setdefault("schema", {})
            # `page` and `page_size`, whether from a paginator or declared by the view.
            if name in {"page", "page_size"}:
                schema["minimum"] = 1
                if name == "page":
                    schema["maximum"] = MAX_PAGE
                elif max_page_size := getattr(paginator, "max_page_size", None):
                    schema["maximum"] = max_page_size
            if name == "cursor":
                parameter["description"] = (
                    "Opaque: the cursor of a `next` or `previous` link of this list; any "
                    "other value is a 400 naming cursor.")
            if getattr(filters.get(name), "partner_country", False):
                schema.pop("maxLength", None)
                schema.update(partner_country_schema())
            # A parameter given has a value (workinggroup.query_api): "" is not "no filter";
            # Django's form fields refuse NUL in text, as DRF's do in bodies.
            if (schema.get("type") == "string" and "enum" not in schema
                    and "format" not in schema):
                schema.setdefault("minLength", 1)
                schema.setdefault("pattern", NO_NUL)
        return operation
