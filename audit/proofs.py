"""The auditor's reads of the witnessed log, each gated and recorded here as the other audit
reads are (audit/selectors.py): checkpoint notes, an entry's inclusion proof, a consistency
proof between two sizes, and the proof bundle an export carries. Every hash of a proof comes
from the stored tree (audit.merkle_store).
"""

import base64
from collections.abc import Callable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from audit import merkle, merkle_store, notes, selectors, witnessing
from audit.filters import applied_filters
from audit.recording import record
from audit.witnessed_models import CheckpointNote

BUNDLE_FORMAT = "wgx-audit-proof-bundle-1"
BUNDLE_MAX_ENTRIES = 100_000


def _require_auditor(user) -> None:
    if not selectors.can_read_audit(user):
        raise PermissionDenied(selectors.NOT_AN_AUDITOR)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def cosigned_note(note: CheckpointNote) -> str:
    """The note with the log's signature and every cosignature kept for it."""
    lines = note.cosignatures.order_by("witness").values_list("line", flat=True)
    return note.note + "".join(lines)


def latest_note() -> CheckpointNote | None:
    """The latest note of the current epoch with the most cosignatures kept (quorum first)."""
    notes = CheckpointNote.objects.filter(origin=witnessing.current_origin()).order_by("-size")
    quorum = max(witnessing.quorum(), 1) if witnessing.configured_witnesses() else 0
    for note in notes[:50]:
        if note.cosignatures.count() >= quorum:
            return note
    return notes.first()


def _note_at(size: int) -> CheckpointNote | None:
    return CheckpointNote.objects.filter(origin=witnessing.current_origin(), size=size).first()


def notes_page(user, query: Mapping[str, str], paginate: Callable):
    """(page of checkpoint notes oldest first, the keys and witnesses to check them with);
    recorded as `audit.view` of the notes."""
    _require_auditor(user)
    page = paginate(CheckpointNote.objects.prefetch_related("cosignatures").order_by("id"))
    record("audit.view", user, target=("audit", "notes"), cursor=bool(query.get("cursor")),
           returned=len(page))
    current = witnessing.current_origin()
    origins = sorted({note.origin for note in page} | {current})
    keys = {
        "log_keys": {origin: witnessing.log_vkey(origin) for origin in origins},
        "current_origin": current,
        "witnesses": [{"name": w.name, "url": w.url, "vkey": _vkey(w)}
                      for w in witnessing.configured_witnesses()],
        "quorum": witnessing.quorum(),
    }
    return page, keys


def inclusion(user, *, seq: int, size: int | None = None) -> dict:
    """The inclusion proof of entry `seq` in the tree of `size` (default: the latest note's);
    recorded as `audit.view`. The entry must be one the caller may see (404 otherwise)."""
    _require_auditor(user)
    visible = selectors.entries_visible_to(user)
    entry = visible.filter(seq=seq).values_list("seq", "hash").first()
    if entry is None:
        raise Http404(f"no entry #{seq}")
    if size is None:
        note = latest_note()
        if note is None:
            raise ValidationError({"size": "no checkpoint note is signed yet"})
        size = note.size
    tree = merkle_store.tree_size()
    if not seq <= size <= tree:
        raise ValidationError({"size": f"must be from {seq} (the entry) to {tree} (the tree)"})
    leaf = merkle.leaf_hash(bytes.fromhex(entry[1]))
    note = _note_at(size)
    record("audit.view", user, target=("audit", "proofs"), proof="inclusion", seq=seq,
           tree_size=size)
    return {
        "seq": seq,
        "leaf_index": seq - 1,
        "tree_size": size,
        "entry_hash": entry[1],
        "leaf_hash": _b64(leaf),
        "proof": [_b64(h) for h in merkle_store.inclusion_proof(seq - 1, size)],
        "checkpoint": cosigned_note(note) if note else None,
    }


def consistency(user, *, old: int, new: int) -> dict:
    """The consistency proof from the tree of size `old` to the tree of size `new`; recorded
    as `audit.view`."""
    _require_auditor(user)
    tree = merkle_store.tree_size()
    if not 0 <= old <= new <= tree:
        raise ValidationError({"old": f"need 0 <= old <= new <= {tree} (the tree's size)"})
    old_note, new_note = _note_at(old), _note_at(new)
    record("audit.view", user, target=("audit", "proofs"), proof="consistency", old=old,
           new=new)
    return {
        "old": old,
        "new": new,
        "proof": [_b64(h) for h in merkle_store.consistency_proof(old, new)],
        "old_checkpoint": cosigned_note(old_note) if old_note else None,
        "new_checkpoint": cosigned_note(new_note) if new_note else None,
    }


def bundle(user, query: Mapping[str, str]) -> dict:
    """What an export with these filters needs to be checked offline: the latest cosigned
    checkpoint, the keys, and each entry's hash and inclusion proof in that checkpoint's tree;
    recorded as `audit.export` of the proof bundle."""
    entries = selectors.filtered_entries(user, query)
    note = latest_note()
    if note is None:
        raise ValidationError({"checkpoint": "no checkpoint note is signed yet"})
    rows = entries.filter(seq__lte=note.size).order_by("seq").values_list("seq", "hash")
    rows = list(rows[: BUNDLE_MAX_ENTRIES + 1])
    if len(rows) > BUNDLE_MAX_ENTRIES:
        raise ValidationError({"since": f"more than {BUNDLE_MAX_ENTRIES} entries: narrow "
                                        "the filters (since/until)"})
    record("audit.export", user, target=("audit", "proof-bundle"),
           filters=applied_filters(query), entries=len(rows))
    return {
        "format": BUNDLE_FORMAT,
        "checkpoint": cosigned_note(note),
        "log_key": witnessing.log_vkey(note.origin),
        "witnesses": [{"name": w.name, "vkey": _vkey(w)}
                      for w in witnessing.configured_witnesses()],
        "quorum": witnessing.quorum(),
        "entries": [
            {"seq": seq, "hash": digest, "proof": [_b64(h) for h in proof]}
            for (seq, digest), proof in zip(
                rows, merkle_store.inclusion_proofs([seq - 1 for seq, _ in rows], note.size),
                strict=True)
        ],
    }


def _vkey(witness) -> str:
    v = witness.verifier
    return notes.vkey(v.name, v.sig_type, v.public_key)
