"""Input and output shapes of the case API, each field listed: nothing leaves by default.

Inputs are strict: text must be JSON strings, unknown or read-only keys are refused by name
(a client that sends `owner_country` learns it was not taken, rather than silently ignored).
Normalised identifiers, blind indexes and key ids are in no serializer.
"""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases import services
from cases.identifiers import IDENTIFIER_TYPES, InvalidIdentifier, normalise
from cases.models import (
    Case,
    CaseStatus,
    CaseType,
    HandlingCode,
    InformationAssessment,
    SourceReliability,
    Subject,
    SubjectRole,
)


class StrictCharField(serializers.CharField):
    """A CharField that takes only strings: 123 or true for a name is a client bug."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        # The limit counts the text as sent, as the schema's maxLength does (DRF would
        # measure it after trimming the surrounding whitespace).
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictInput(serializers.Serializer):
    """Refuses keys it does not declare, naming each (read-only ones say so)."""

    read_only_names: tuple[str, ...] = ()

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, dict):
            for name in sorted(set(data) - set(self.fields)):
                errors[str(name)[:64]] = [
                    "read-only" if name in self.read_only_names else "unknown field"
                ]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors = {**exc.detail, **errors}
        if errors:
            raise serializers.ValidationError(errors)
        return value


@extend_schema_field({"type": "string", "pattern": "^([A-Za-z]{2})?$"})
class NationalityField(StrictCharField):
    """A country code of any country (not only a partner), or empty: two letters."""


class BoundedListField(serializers.ListField):
    """A ListField that refuses an overlong list before validating (and normalising) items."""

    def to_internal_value(self, data):
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


CASE_READ_ONLY = ("id", "reference", "owner_country", "created_at", "updated_at", "created_by")


class CaseInput(StrictInput):
    """POST /cases/: the owner country is the caller's and the reference is assigned."""

    read_only_names = CASE_READ_ONLY

    title = StrictCharField(max_length=200)
    summary = StrictCharField(max_length=10000, required=False, allow_blank=True)
    case_type = serializers.ChoiceField(choices=CaseType.choices)
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    handling_code = serializers.ChoiceField(choices=HandlingCode.choices, required=False)
    handling_note = StrictCharField(
        max_length=500, required=False, allow_blank=True,
        help_text="The restriction, stated: required (not blank) when handling_code is H3 "
                  "(else 400 naming handling_note).",
    )
    source_reliability = serializers.ChoiceField(
        choices=SourceReliability.choices, required=False
    )
    information_assessment = serializers.ChoiceField(
        choices=InformationAssessment.choices, required=False
    )


class CaseUpdateInput(CaseInput):
    """PATCH /cases/{id}/: any editable field (the service checks H3 against the stored note)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class CaseOutput(serializers.ModelSerializer):
    """A case as any holder of the summary scope sees it, handling code always included."""

    owner_country = serializers.CharField(source="owner_country_id")

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "title",
            "summary",
            "case_type",
            "status",
            "owner_country",
            "handling_code",
            "handling_note",
            "source_reliability",
            "information_assessment",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CaseDetailOutput(CaseOutput):
    """One case, with the scope the caller's country holds (`owner` for the owner country)."""

    access = serializers.SerializerMethodField()

    class Meta(CaseOutput.Meta):
        fields = [*CaseOutput.Meta.fields, "access"]
        read_only_fields = fields

    def get_access(self, case) -> str:
        return case.access  # set by the selector (or the service, for the owner's own edits)


# What a value must be for its type (docs/identifiers.md); a value that does not normalise
# is a 400 naming `value`. The lookup's input says the same.
IDENTIFIER_VALUE_HELP = (
    "The identifier as written; it must normalise for its type (else 400 naming value): "
    "`phone` a phone number (with its country code, or national for the case's country); "
    "`email` an address with exactly one @; `passport`, `national_id`, `vehicle_plate`, "
    "`bank_account` letters A-Z and digits (spaces, dashes and dots are ignored); "
    "`name_dob` a name followed by an ISO date of birth (YYYY-MM-DD)."
)


class IdentifierInput(StrictInput):
    identifier_type = serializers.ChoiceField(choices=IDENTIFIER_TYPES)
    value = StrictCharField(max_length=256, trim_whitespace=False, help_text=IDENTIFIER_VALUE_HELP)

    def validate(self, attrs):
        try:
            normalise(
                attrs["identifier_type"], attrs["value"],
                default_region=self.context.get("default_region"),
            )
        except InvalidIdentifier as exc:
            raise serializers.ValidationError({"value": [exc.translated(gettext)]}) from None
        return attrs


class IdentifiersInput(StrictInput):
    """POST /cases/{id}/subjects/{subject_id}/identifiers/: identifiers to add."""

    identifiers = BoundedListField(
        child=IdentifierInput(), min_length=1, max_length=services.MAX_IDENTIFIERS_PER_SUBJECT
    )


class SubjectInput(StrictInput):
    """POST /cases/{id}/subjects/ (the service checks the date of birth and nationality)."""

    read_only_names = ("id", "created_at")

    full_name = StrictCharField(max_length=200)
    role = serializers.ChoiceField(choices=SubjectRole.choices)
    aliases = BoundedListField(
        child=StrictCharField(max_length=services.MAX_ALIAS_CHARS),
        max_length=services.MAX_ALIASES,
        required=False,
    )
    date_of_birth = serializers.DateField(
        required=False, allow_null=True,
        help_text="From 1900-01-01 to today (else 400 naming date_of_birth).")
    nationality = NationalityField(
        min_length=2, max_length=2, required=False, allow_blank=True,
        help_text="ISO 3166 alpha-2 code (any country), or empty.",
    )
    source_reliability = serializers.ChoiceField(
        choices=SourceReliability.choices, required=False
    )
    information_assessment = serializers.ChoiceField(
        choices=InformationAssessment.choices, required=False
    )
    identifiers = BoundedListField(
        child=IdentifierInput(), required=False, max_length=services.MAX_IDENTIFIERS_PER_SUBJECT
    )



class SubjectUpdateInput(SubjectInput):
    """PATCH /cases/{id}/subjects/{subject_id}/: any of a subject's own fields; identifiers
    are added through .../identifiers/."""

    read_only_names = ("id", "created_at", "identifiers")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["identifiers"]
        for field in self.fields.values():
            field.required = False


class IdentifierOutput(serializers.Serializer):
    identifier_type = serializers.CharField()
    value = serializers.CharField()


class SubjectOutput(serializers.ModelSerializer):
    identifiers = IdentifierOutput(many=True, read_only=True)

    class Meta:
        model = Subject
        fields = [
            "id",
            "full_name",
            "aliases",
            "date_of_birth",
            "nationality",
            "role",
            "source_reliability",
            "information_assessment",
            "identifiers",
            "created_at",
        ]
        read_only_fields = fields
