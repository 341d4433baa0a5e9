"""Tables of the witnessed log: the Merkle tree's stored hashes, signed checkpoint notes,
witnesses' cosignatures, epochs, and each witness's last known status.

Imported by audit.models so Django registers them with the audit app.
"""

from django.db import models
from django.utils import timezone

from audit.models import AppendOnlyModel


class MerkleNode(models.Model):
    """The RFC 6962 hash of the leaves [start, stop) (leaf i is entry seq i + 1).

    Complete ranges (a power of two long, aligned) are written by the drain as the tree grows;
    the right-edge ranges a proof for a checkpoint's size needs are written when the
    checkpoint is signed. Nothing here is trusted: verification recomputes the tree from the
    entries' hashes, and proofs are checked against roots the witnesses cosigned.
    """

    pk = models.CompositePrimaryKey("start", "stop")
    start = models.BigIntegerField()
    stop = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        db_table = "audit_merklenode"

    def __str__(self):
        return f"merkle [{self.start}, {self.stop})"


class CheckpointNote(AppendOnlyModel):
    """A C2SP checkpoint (origin, tree size, root) as a signed note, with the log's signature."""

    origin = models.CharField(max_length=200)
    size = models.BigIntegerField()
    root = models.CharField(max_length=64)  # hex, for queries; the note spells it in base64
    note = models.TextField()  # body, blank line, the log's signature line
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["origin", "size"], name="audit_note_origin_size")
        ]

    def __str__(self):
        return f"{self.origin} @ {self.size}"


class Cosignature(AppendOnlyModel):
    """A witness's cosignature/v1 line on a checkpoint note, as the witness answered it."""

    note = models.ForeignKey(CheckpointNote, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.CharField(max_length=200)
    line = models.TextField()
    cosigned_at = models.DateTimeField()  # the cosignature's own timestamp

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["note", "witness"], name="audit_cosig_note_witness")
        ]

    def __str__(self):
        return f"{self.witness} on {self.note}"


class Epoch(AppendOnlyModel):
    """A new origin line for the log, started after a restore from a backup rolled it back."""

    number = models.PositiveIntegerField(primary_key=True)
    origin = models.CharField(max_length=200, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    restore_entry_seq = models.BigIntegerField()

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"epoch {self.number}: {self.origin}"


class WitnessStatus(models.Model):
    """The last submission's outcome per witness (mutable: health reads it)."""

    witness = models.CharField(max_length=200, primary_key=True)
    origin = models.CharField(max_length=200)
    ok = models.BooleanField()
    cosigned_size = models.BigIntegerField(default=0)
    detail = models.TextField(blank=True)
    checked_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.witness}: {'ok' if self.ok else 'failing'}"
