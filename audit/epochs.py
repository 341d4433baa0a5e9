"""Starting a new epoch of the witnessed log after a restore from a backup.

A restore rolls the log back behind what the witnesses cosigned, and they rightly refuse it
(409: their size exceeds the log's). Recovery is a visible act: the log takes a new origin
line, and its first entry under it (audit.epoch_started) records the restore and the last
checkpoint the witnesses cosigned in the old epoch, so what was lost is named in the log
itself. Each country's witness operator then trusts the new origin deliberately.
"""

from django.db import transaction

import audit
from audit import drain, merkle_store, notes, witnessing
from audit.models import AuditEntry
from audit.witnessed_models import Epoch


def last_witnessed(origin: str) -> list[dict]:
    """What each configured witness last cosigned for `origin` (size, root), or why not."""
    seen = []
    for witness in witnessing.configured_witnesses():
        status, text = witnessing.fetch_latest(witness, origin)
        item = {"witness": witness.name}
        try:
            if status != 200:
                raise notes.NoteError(f"answered {status or 'nothing'}")
            body, signatures = notes.split_note(text)
            mine = [s for s in signatures if s.name == witness.name]
            if not mine:
                raise notes.NoteError("no cosignature of its own")
            notes.verify_cosignature(body, mine[0], witness.verifier)
            checkpoint = notes.parse_checkpoint(body)
            item.update(size=checkpoint.size, root=checkpoint.root.hex(), note=text)
        except notes.NoteError as exc:
            item["error"] = str(exc)
        seen.append(item)
    return seen


def start_new_epoch(*, reason: str) -> Epoch:
    """Record the restore, then switch the log to a new origin (service; run by the command)."""
    old_origin = witnessing.current_origin()
    number = (Epoch.objects.order_by("-number").values_list("number", flat=True).first() or 1) + 1
    base = old_origin.split("/epoch/")[0]
    new_origin = f"{base}/epoch/{number}"
    witnessed = last_witnessed(old_origin)
    sizes = [item["size"] for item in witnessed if "size" in item]
    with transaction.atomic():
        audit.record(
            "audit.epoch_started", None, target=("audit", "epoch"),
            previous_origin=old_origin, origin=new_origin, reason=reason,
            restored_size=merkle_store.tree_size(),
            last_witnessed_size=max(sizes, default=0), last_witnessed=witnessed,
        )
    drain.drain_outbox()  # the restore's entry is the first one the new epoch signs
    seq = (AuditEntry.objects.filter(action="audit.epoch_started")
           .order_by("-seq").values_list("seq", flat=True).first())
    with transaction.atomic():
        return Epoch.objects.create(number=number, origin=new_origin, restore_entry_seq=seq)
