"""Verification with a witness policy: the chain, the Merkle tree, and k of n witnesses.

After the hash chain is walked (audit.selectors.verify_chain), this:

1. recomputes the Merkle tree from the entries' hashes (never from the stored tree), keeping
   the roots at every size something vouches for;
2. checks the latest checkpoint note (the log's signature, its root at its size, and that
   the log still has that many entries) and that the stored tree's root is the recomputed one
   (proofs are served from it);
3. asks every configured witness for the latest checkpoint it cosigned for this origin
   (GET /checkpoint), checks its cosignature with the configured key and the log's signature,
   and compares it with the recomputed tree: a size beyond the log is a cut or a rollback, a
   different root at that size is a rewrite or a fork;
4. requires WG_WITNESS_QUORUM of them to have cosigned a checkpoint consistent with the tree.

With no witnesses configured the result says the log is unwitnessed (and is otherwise ok).
"""

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from django.db import connection

from audit import merkle, merkle_store, notes, witnessing
from audit.witnessed_models import CheckpointNote

CHUNK = 20_000
HISTORY_NOTES = 5_000


@dataclass(frozen=True)
class WitnessView:
    """What one witness vouches for, as checked against the recomputed tree."""

    name: str
    state: str  # consistent, unreachable, none, ahead, conflict, bad
    size: int = 0
    root: str = ""
    detail: str = ""


@dataclass(frozen=True)
class WitnessedVerification:
    """The chain's verification plus the tree's and the witnesses' (same first fields)."""

    ok: bool
    entries_checked: int
    first_bad_seq: int | None
    reason: str
    started_after: int = 0
    last_verified_checkpoint: int = 0
    witnessing: dict = field(default_factory=dict)


def _tree_roots(sizes: set[int]) -> tuple[int, dict[int, bytes]]:
    """(entries in an unbroken run from seq 1, {size: root}) recomputed from entry hashes."""
    roots = {0: merkle.EMPTY_ROOT}
    border: list[bytes] = []
    size = 0
    leaf, node = merkle.leaf_hash, merkle.node_hash
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT seq, hash FROM audit_auditentry WHERE seq > %s ORDER BY seq LIMIT %s",
                [size, CHUNK],
            )
            rows = cursor.fetchall()
        for seq, digest in rows:
            if seq != size + 1:
                return size, roots
            h = leaf(bytes.fromhex(digest))
            size += 1
            n = size
            while not n & 1:  # each trailing zero bit of the new size merges one range
                h = node(border.pop(), h)
                n >>= 1
            border.append(h)
            if size in sizes:
                roots[size] = merkle.fold(border)
        if len(rows) < CHUNK:
            break
    if border:
        roots[size] = merkle.fold(border)
    return size, roots


def _witness_view(witness, origin, status, text) -> tuple[WitnessView, notes.Checkpoint | None]:
    if status == 0:
        return WitnessView(witness.name, "unreachable", detail=f"unreachable: {text}"), None
    if status == 404:
        view = WitnessView(witness.name, "none", detail="has cosigned nothing for this origin")
        return view, None
    if status != 200:
        return WitnessView(witness.name, "unreachable", detail=f"answered {status}"), None
    try:
        body, signatures = notes.split_note(text)
        checkpoint = notes.parse_checkpoint(body)
        if checkpoint.origin != origin:
            raise notes.NoteError(f"a checkpoint of {checkpoint.origin!r}")
        if not any(notes.note_signed_by(body, signatures, v)
                   for v in witnessing.log_verifiers(origin)):
            raise notes.NoteError("the log's signature on it does not verify")
        mine = [s for s in signatures if s.name == witness.name]
        if not mine:
            raise notes.NoteError("it carries no cosignature of this witness")
        notes.verify_cosignature(body, mine[0], witness.verifier)
    except notes.NoteError as exc:
        return WitnessView(witness.name, "bad", detail=f"bad checkpoint: {exc}"), None
    return WitnessView(witness.name, "consistent", checkpoint.size,
                       checkpoint.root.hex()), checkpoint


def verify_witnessed(chain_result) -> WitnessedVerification:
    """Extend a chain verification with the tree and witness checks (see the module)."""
    origin = witnessing.current_origin()
    witnesses = witnessing.configured_witnesses()
    quorum = witnessing.quorum()
    if witnesses:
        with ThreadPoolExecutor(max_workers=len(witnesses)) as pool:
            answers = list(pool.map(lambda w: witnessing.fetch_latest(w, origin), witnesses))
    else:
        answers = []
    views = [_witness_view(w, origin, *answer) for w, answer in zip(witnesses, answers,
                                                                      strict=True)]
    note = CheckpointNote.objects.filter(origin=origin).order_by("-size").first()
    # The newest notes name where a rewrite starts (older ones only narrow it further).
    history = dict(CheckpointNote.objects.filter(origin=origin).order_by("-size")
                   .values_list("size", "root")[:HISTORY_NOTES])
    sizes = set(history) | {cp.size for _v, cp in views if cp}
    size, roots = _tree_roots(sizes)
    problems: list[tuple[int | None, str]] = []  # the log's own evidence
    witnessed: list[tuple[int | None, str]] = []  # the witnesses' (named first at a tie)

    def last_good_before(limit: int) -> int:
        """Entries up to the largest signed size below `limit` whose root still matches."""
        good = [s for s, r in history.items() if s < limit and s in roots and roots[s].hex() == r]
        return max(good, default=0)

    if note is not None:
        body, signatures = notes.split_note(note.note)
        if not any(notes.note_signed_by(body, signatures, v)
                   for v in witnessing.log_verifiers(origin)):
            problems.append((note.size, f"checkpoint note @{note.size}: its signature does "
                                        "not verify"))
        elif note.size > size:
            problems.append((size + 1, f"entries from #{size + 1} are missing: checkpoint note "
                                       f"@{note.size} signed a longer log (cut)"))
        elif roots[note.size] != notes.parse_checkpoint(body).root:
            problems.append((last_good_before(note.size) + 1,
                             f"the tree of the first {note.size} entries differs from its "
                             "signed checkpoint note (rewritten)"))
    stored = merkle_store.tree_size()
    if stored > size:
        problems.append((size + 1, f"entries from #{size + 1} are missing: the stored Merkle "
                                   f"tree has {stored} leaves (cut)"))
    elif stored != size or (size and merkle_store.root(size) != roots[size]):
        problems.append((None, f"the stored Merkle tree ({stored} leaves) does not match the "
                               f"entries ({size}): proofs served from it would be wrong"))

    checked = []
    for view, checkpoint in views:
        if checkpoint is None:
            checked.append(view)
        elif checkpoint.size > size:
            checked.append(WitnessView(
                view.name, "ahead", view.size, view.root,
                f"cosigned size {checkpoint.size} but the log has {size} entries: the tail was "
                "cut or the database rolled back"))
        elif roots[checkpoint.size] != checkpoint.root:
            checked.append(WitnessView(
                view.name, "conflict", view.size, view.root,
                f"cosigned another tree of size {checkpoint.size}: the first "
                f"{checkpoint.size} entries were rewritten, or the log forked"))
        else:
            checked.append(view)
    consistent = [v for v in checked if v.state == "consistent"]
    ahead = [v for v in checked if v.state == "ahead"]
    conflicts = [v for v in checked if v.state == "conflict"]
    if ahead:
        worst = max(ahead, key=lambda v: v.size)
        witnessed.append((size + 1, f"entries from #{size + 1} are missing: witness "
                                   f"{worst.name} cosigned size {worst.size} but the log has "
                                   f"{size} entries (the witnesses' cosigned size exceeds "
                                   "the log's: cut or rolled back)"))
    if conflicts:
        first = min(conflicts, key=lambda v: v.size)
        same_size = [v for v in consistent + conflicts if v.size == first.size and v is not first
                     and v.root != first.root]
        if consistent or same_size:
            other = (same_size or consistent)[0]
            reason = (f"fork: the witnesses' cosignatures conflict: {first.name} cosigned "
                      f"a tree of size {first.size} that the log does not extend, while "
                      f"{other.name} cosigned the log's tree of size {other.size}")
        else:
            reason = (f"the first {first.size} entries differ from the tree witness "
                      f"{first.name} cosigned (rewritten history)")
        witnessed.append((last_good_before(first.size) + 1, reason))
    if witnesses and len(consistent) < quorum:
        missing = "; ".join(f"{v.name}: {v.detail}" for v in checked if v.state != "consistent")
        witnessed.append((None, f"only {len(consistent)} of {len(witnesses)} witnesses cosigned "
                               f"a checkpoint consistent with the log (quorum {quorum}): "
                               f"{missing}"))

    problems = witnessed + problems
    summary = {
        "origin": origin,
        "tree_size": size,
        "root": roots[size].hex() if size in roots else "",
        "checkpoint_size": note.size if note else None,
        "witnessed": bool(witnesses),
        "status": ("unwitnessed" if not witnesses else
                   "witnessed" if len(consistent) >= quorum and not (ahead or conflicts)
                   else "failing"),
        "quorum": quorum,
        "cosigned": len(consistent),
        "witnesses": [asdict(v) for v in checked],
        "problems": [reason for _seq, reason in problems],
    }
    if not witnesses:
        summary["note"] = ("the log is unwitnessed: no witnesses are configured (WG_WITNESSES), "
                           "so nothing outside this database vouches for its history")
    if not chain_result.ok:
        return WitnessedVerification(False, chain_result.entries_checked,
                                     chain_result.first_bad_seq, chain_result.reason,
                                     chain_result.started_after,
                                     chain_result.last_verified_checkpoint, summary)
    if not problems:
        return WitnessedVerification(True, chain_result.entries_checked, None, "",
                                     chain_result.started_after,
                                     chain_result.last_verified_checkpoint, summary)
    seq, reason = min(problems, key=lambda p: (p[0] is None, p[0] or 0))
    return WitnessedVerification(False, chain_result.entries_checked, seq, reason,
                                 chain_result.started_after,
                                 chain_result.last_verified_checkpoint, summary)


def root_b64(root_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(root_hex)).decode()
