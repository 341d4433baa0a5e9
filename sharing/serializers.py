"""Share request input and output. Fields are listed explicitly; the case's fields are
withheld where the domain says so (sharing.selectors.withheld_fields)."""

from rest_framework import serializers

from cases.serializers import StrictCharField, StrictInput
from sharing.models import ShareRequest, ShareScope
from sharing.selectors import withheld_fields
from workinggroup.models import Country, clean_country_code
from workinggroup.schema_api import PartnerCountryField


class ShareRequestOpenSerializer(StrictInput):
    """POST /api/v1/share-requests/: the shape of a new request (the rules are the service's)."""

    case = serializers.UUIDField(required=False)
    hit_id = serializers.UUIDField(
        required=False, help_text="Instead of `case`: ask for the cases behind a lookup hit."
    )
    recipient_country = PartnerCountryField(required=False)
    scope = serializers.ChoiceField(choices=ShareScope.choices)
    justification = StrictCharField(max_length=2000)
    expires_at = serializers.DateTimeField(
        help_text="In the future and at most 365 days ahead (else 400 naming expires_at)."
    )
    named_subjects = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=100
    )

    def validate(self, data):
        if ("case" in data) == ("hit_id" in data):
            raise serializers.ValidationError({"case": "give either case or hit_id"})
        if "hit_id" in data and data.get("named_subjects"):
            raise serializers.ValidationError(
                {"named_subjects": "not with hit_id: name protected subjects once you see them"}
            )
        return data

    def validate_recipient_country(self, value):
        return Country.objects.get(code=clean_country_code(value))


class DecisionSerializer(StrictInput):
    """POST .../approve/, /deny/, /revoke/: an optional note that stays with the request."""

    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class ShareRequestSerializer(serializers.ModelSerializer):
    """A share request as the owner or the recipient country sees it."""

    case = serializers.UUIDField(source="case_id")
    case_reference = serializers.CharField(source="case.reference")
    handling_code = serializers.CharField(source="case.handling_code")
    handling_note = serializers.CharField(source="case.handling_note")
    owner_country = serializers.CharField(source="case.owner_country_id")
    recipient_country = serializers.CharField(source="recipient_country_id")
    named_subjects = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", allow_null=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = ShareRequest
        fields = [
            "id", "case", "case_reference", "handling_code", "handling_note", "owner_country",
            "recipient_country", "scope", "named_subjects", "justification", "origin",
            "requested_by", "created_at", "expires_at", "status", "active", "decided_by",
            "decided_at", "decision_note", "revoked_by", "revoked_at", "revocation_note",
        ]
        read_only_fields = fields

    def get_named_subjects(self, obj) -> list[str]:
        return sorted(str(s.pk) for s in obj.named_subjects.all())

    def get_active(self, obj) -> bool:
        return obj.is_active()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        withheld = getattr(instance, "withheld", None)
        if withheld is None:  # a service's result: ask the same rule for the caller
            request = self.context.get("request")
            withheld = withheld_fields(instance, request.user if request else None)
        for name in withheld:
            data[name] = None
        return data
