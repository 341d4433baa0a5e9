"""The working group's own API endpoint: who am I (health probes: workinggroup.health)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    country = serializers.CharField(source="country_id", allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    oversight = serializers.BooleanField()


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The caller's username, country and roles."""
    return Response(MeSerializer(request.user).data)
