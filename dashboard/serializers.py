"""The flow-import API's shapes: a revision as the API shows it (metadata, no figures)."""

from rest_framework import serializers

from dashboard.models import FlowRevision


class FlowRevisionSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country_id")
    uploaded_by = serializers.CharField(source="uploaded_by.username", default=None)
    first_month = serializers.DateField(format="%Y-%m")
    last_month = serializers.DateField(format="%Y-%m")

    class Meta:
        model = FlowRevision
        fields = ["id", "country", "uploaded_by", "uploaded_at", "filename", "rows", "sha256",
                  "first_month", "last_month", "months", "demonstration"]
        read_only_fields = fields


class ProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class FlowFileRejectedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    problems = ProblemSerializer(many=True)
