"""POST /api/v1/lookup/ (investigators) and GET /api/v1/lookup/hits/ (owner liaisons)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.identifiers import IDENTIFIER_TYPES
from cases.serializers import IDENTIFIER_VALUE_HELP, CaseOutput, StrictCharField, StrictInput
from sharing import lookup


class LookupInputSerializer(StrictInput):
    identifier_type = serializers.ChoiceField(choices=IDENTIFIER_TYPES)
    value = StrictCharField(max_length=256, help_text=IDENTIFIER_VALUE_HELP)


class HitSerializer(serializers.Serializer):
    country = serializers.CharField()
    cases = serializers.IntegerField()
    hit_id = serializers.UUIDField()


class LookupResultSerializer(serializers.Serializer):
    hits = HitSerializer(many=True)
    own = CaseOutput(many=True)  # the usual case summaries


class LookupView(APIView):
    """Does any partner hold this identifier? Only counts per country and an opaque hit_id."""

    @extend_schema(request=LookupInputSerializer, responses=LookupResultSerializer)
    def post(self, request):
        data = LookupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = lookup.lookup_identifier(user=request.user, **data.validated_data)
        return Response(LookupResultSerializer(result).data)


class HitOnOurCasesSerializer(serializers.Serializer):
    requested_by = serializers.CharField(source="requested_by.username")
    requester_country = serializers.CharField(source="requested_by.country_id")
    identifier_type = serializers.CharField()
    created_at = serializers.DateTimeField()
    cases = serializers.SerializerMethodField()

    def get_cases(self, hit) -> list[dict]:
        return [{"id": case_id, "reference": reference} for case_id, reference in hit.named_cases]


class HitsOnOurCasesPage(serializers.Serializer):
    results = HitOnOurCasesSerializer(many=True)


class HitsOnOurCasesView(APIView):
    """For liaisons: partners' lookups that matched their country's cases, newest first."""

    @extend_schema(responses=HitsOnOurCasesPage)
    def get(self, request):
        hits = lookup.hits_on_country_cases(request.user, limit=100)
        return Response({"results": HitOnOurCasesSerializer(hits, many=True).data})
