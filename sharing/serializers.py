"""Share request input and output. Fields are listed explicitly; the case's fields are
withheld where the domain says so (sharing.selectors.withheld_fields)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.serializers import StrictCharField, StrictInput
from sharing.models import ShareRequest, ShareScope
from sharing.selectors import owner_fields_withheld, withheld_fields
from workinggroup.models import Country, clean_country_code
from workinggroup.schema_api import PartnerCountryField


class ShareRequestOpenSerializer(StrictInput):
    """POST /api/v1/share-requests/: the shape of a new request (the rules are the service's)."""

    case = serializers.UUIDField(required=False)
    hit_id = serializers.UUIDField(
        required=False, help_text="Instead of `case`: ask for the cases behind a lookup hit."
    )
    recipient_country = PartnerCountryField(required=False)
    recipient_countries = serializers.ListField(
        child=PartnerCountryField(), required=False, min_length=1, max_length=50,
        help_text="Instead of `recipient_country`, when offering your country's case: one "
                  "request per partner country, all or nothing. The 201 answer is then "
                  "`{\"results\": [...]}`, one request per country.",
    )
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
        if "recipient_countries" in data and ("recipient_country" in data or "hit_id" in data):
            raise serializers.ValidationError(
                {"recipient_countries": "not with recipient_country or hit_id"})
        if "hit_id" in data and data.get("named_subjects"):
            raise serializers.ValidationError(
                {"named_subjects": "not with hit_id: name protected subjects once you see them"}
            )
        return data

    def validate_recipient_country(self, value):
        return Country.objects.get(code=clean_country_code(value))

    def validate_recipient_countries(self, value):
        codes = [clean_country_code(v) for v in value]
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError("each country at most once")
        countries = Country.objects.in_bulk(codes)
        return [countries[code] for code in codes]


class ShareRenewSerializer(StrictInput):
    """POST .../{id}/renew/: why the share should go on, and until when."""

    justification = StrictCharField(max_length=2000)
    expires_at = serializers.DateTimeField(
        help_text="Later than the share's current expiry, at most 365 days from now (else "
                  "400 naming expires_at).")


class ShareApprovalSerializer(serializers.Serializer):
    """One liaison's approval of a request (shown to the owner country only)."""

    liaison = serializers.CharField(source="liaison.username")
    approved_at = serializers.DateTimeField()
    note = serializers.CharField()


class DecisionSerializer(StrictInput):
    """POST .../approve/, /deny/, /revoke/: an optional note that stays with the request."""

    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class ShareRequestSerializer(serializers.ModelSerializer):
    """A share request as the owner or the recipient country sees it."""

    # The case's fields (sharing.selectors.CASE_FIELDS) are null for a recipient that does
    # not know the case yet: an offer, or a request from a lookup hit, until approved; an
    # undisclosed offer's justification too (the owner's words about its case).
    case = serializers.UUIDField(source="case_id", allow_null=True)
    case_reference = serializers.CharField(source="case.reference", allow_null=True)
    handling_code = serializers.CharField(source="case.handling_code", allow_null=True)
    handling_note = serializers.CharField(source="case.handling_note", allow_null=True)
    justification = serializers.CharField(allow_null=True)
    owner_country = serializers.CharField(source="case.owner_country_id")
    recipient_country = serializers.CharField(source="recipient_country_id")
    named_subjects = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", allow_null=True)
    active = serializers.SerializerMethodField()
    approvals = ShareApprovalSerializer(
        many=True, read_only=True, allow_null=True,
        help_text="Who approved, when, with what note, in order; null for the recipient "
                  "country, which never learns who approved.",
    )
    approvals_given = serializers.SerializerMethodField(
        allow_null=True,
        help_text="How many liaisons of the owner country have approved it so far; null "
                  "where approvals_needed is.")
    approvals_needed = serializers.SerializerMethodField(
        allow_null=True,
        help_text="How many distinct liaisons of the owner country must approve it: the "
                  "approval policy when it was opened, or the stricter one of the case's "
                  "handling code if that was raised since. Null where the case's fields are "
                  "(for the recipient of an offer or of a request from a lookup hit, until "
                  "approved): it would tell the handling code.")
    renews = serializers.UUIDField(
        source="renews_id", allow_null=True,
        help_text="The approved share this request renews, if it is a renewal.")

    class Meta:
        model = ShareRequest
        fields = [
            "id", "case", "case_reference", "handling_code", "handling_note", "owner_country",
            "recipient_country", "scope", "named_subjects", "justification", "origin",
            "requested_by", "created_at", "expires_at", "status", "active", "approvals",
            "approvals_given", "approvals_needed", "renews", "decided_by",
            "decided_at", "decision_note", "revoked_by", "revoked_at", "revocation_note",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField(), allow_null=True))
    def get_named_subjects(self, obj) -> list[str]:
        return sorted(str(s.pk) for s in obj.named_subjects.all())

    def get_active(self, obj) -> bool:
        return obj.is_active()

    def get_approvals_given(self, obj) -> int:
        return obj.approvals_given()

    def get_approvals_needed(self, obj) -> int:
        return obj.approvals_needed()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        withheld = getattr(instance, "withheld", None)
        owner_withheld = getattr(instance, "owner_withheld", None)
        if withheld is None or owner_withheld is None:  # a service's result: ask the rules
            request = self.context.get("request")
            user = request.user if request else None
            withheld = withheld_fields(instance, user)
            owner_withheld = owner_fields_withheld(instance, user)
        for name in (*withheld, *owner_withheld):
            data[name] = None
        return data
