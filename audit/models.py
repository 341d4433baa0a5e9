"""The audit trail: an outbox written in the caller's transaction, and the hash-chained log."""

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Audit entries and checkpoints are never changed or deleted through the application."""


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk update and delete; bulk_create (append) is the only write."""

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only")

    _raw_delete = delete


class AppendOnlyModel(models.Model):
    """A model whose rows can be inserted once and never changed."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only")


class OutboxEvent(models.Model):
    """An audit event waiting to be chained; written in the same transaction as its action."""

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    event = models.JSONField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"outbox #{self.id} {self.event.get('action', '?')}"


class AuditEntry(AppendOnlyModel):
    """One link of the chain: hash = SHA-256(prev_hash + canonical JSON of the other fields)."""

    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    actor_country = models.CharField(max_length=2, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    case_id = models.CharField(max_length=36, blank=True)
    case_country = models.CharField(max_length=2, blank=True)
    outcome = models.CharField(max_length=16)
    ip = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    # The countries whose auditors may read the entry, sorted and comma-separated ("" for
    # oversight only); NULL for entries chained before it existed (audit/visibility.py).
    readers = models.CharField(max_length=64, null=True, blank=True)
    # The exact bytes the hash covers after prev_hash: the canonical JSON of the fields above.
    # Verification hashes it as stored; on PostgreSQL a validated CHECK constraint
    # (audit.triggers.BODY_CONSTRAINT) ties every column above to it.
    body = models.TextField(editable=False)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["actor_country", "seq"]),
            models.Index(fields=["case_country", "seq"]),
            models.Index(fields=["case_id", "seq"]),
            models.Index(fields=["actor", "seq"]),
            models.Index(fields=["action", "seq"]),
            # (occurred_at, seq): a time window's seq range (min/max) is read from the index
            # alone (audit.selectors.filtered_entries); also serves occurred_at alone.
            models.Index(fields=["occurred_at", "seq"]),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action} by {self.actor} ({self.outcome})"


class AuditCheckpoint(AppendOnlyModel):
    """An Ed25519 signature over (seq, head hash): a copy outside the database detects rewrites."""

    seq = models.BigIntegerField(primary_key=True)
    head_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["seq"]

    def __str__(self):
        return f"checkpoint at #{self.seq}"


# The witnessed log's tables live in their own module (issue 17); imported here to register.
from audit.witnessed_models import (  # noqa: E402, F401
    CheckpointNote,
    Cosignature,
    Epoch,
    MerkleNode,
    WitnessStatus,
)
