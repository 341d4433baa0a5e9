"""Output shapes of the auditor API: entries as the chain spells them, and checkpoints."""

from rest_framework import serializers

from audit import chain
from audit.models import AuditCheckpoint, AuditEntry

CHAIN_TIMESTAMP = chain.TIMESTAMP_FORMAT


class AuditEntrySerializer(serializers.ModelSerializer):
    occurred_at = serializers.DateTimeField(format=CHAIN_TIMESTAMP)
    recorded_at = serializers.DateTimeField(format=CHAIN_TIMESTAMP)

    class Meta:
        model = AuditEntry
        fields = [*chain.FIELDS, "hash"]  # exactly the chain's objects
        read_only_fields = fields


class AuditCheckpointSerializer(serializers.ModelSerializer):
    signed_at = serializers.DateTimeField(format=CHAIN_TIMESTAMP)

    class Meta:
        model = AuditCheckpoint
        fields = ["seq", "head_hash", "key_id", "signature", "signed_at"]
        read_only_fields = fields


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    entries_checked = serializers.IntegerField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
