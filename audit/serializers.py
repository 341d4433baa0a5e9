"""Output shapes of the auditor API: entries as the chain spells them, and checkpoints."""

import orjson
from rest_framework import serializers

from audit import chain
from audit.models import AuditCheckpoint, AuditEntry

CHAIN_TIMESTAMP = chain.TIMESTAMP_FORMAT


class AuditEntrySerializer(serializers.ModelSerializer):
    """An entry as its hashed body says it, plus its hash: exactly the chain's object.

    Read from the body, not the columns: what an auditor reads is what verification vouches
    for, even if someone got past the constraint that ties the columns to it (the columns
    still decide which entries a filter selects).
    """

    occurred_at = serializers.DateTimeField(format=CHAIN_TIMESTAMP)
    recorded_at = serializers.DateTimeField(format=CHAIN_TIMESTAMP)

    class Meta:
        model = AuditEntry
        fields = [*chain.FIELDS, "hash"]  # the schema's fields; values come from the body
        read_only_fields = fields

    def to_representation(self, instance):
        entry = orjson.loads(instance.body)
        entry["hash"] = instance.hash
        return entry


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
    # The witnessed log (audit.witnessed_verify): tree size and root, checkpoint note, status
    # (witnessed / failing / unwitnessed), quorum and each witness's view.
    witnessing = serializers.JSONField(required=False)


class CheckpointNoteSerializer(serializers.Serializer):
    """A C2SP checkpoint note with the log's signature and the cosignatures kept for it."""

    origin = serializers.CharField()
    size = serializers.IntegerField()
    root = serializers.CharField()  # hex
    note = serializers.SerializerMethodField()
    cosigned_by = serializers.SerializerMethodField()
    signed_at = serializers.DateTimeField(format=CHAIN_TIMESTAMP)

    def get_note(self, obj) -> str:
        return obj.note + "".join(c.line for c in obj.cosignatures.all())

    def get_cosigned_by(self, obj) -> list[str]:
        return sorted(c.witness for c in obj.cosignatures.all())
