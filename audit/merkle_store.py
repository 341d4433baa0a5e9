"""The audit log's Merkle tree in the database: extended by the drain, read for proofs.

Rows of audit_merklenode are (start, stop, hash): the hash of leaves [start, stop). The drain
calls `extend` inside its transaction, after it appended a batch of entries, so the entries
and their tree commit together; it reads the tree's right border (at most log2 n rows) and
writes every range the batch completes (about two rows per entry). `store_frontier(size)`
writes the incomplete right-edge ranges of one tree size (at most log2 n rows, when a
checkpoint note is signed), after which every hash of an inclusion or consistency proof for
that size is exactly one stored row: a proof reads at most ceil(log2 n) + 1 of them.
"""

import hashlib
import logging
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from audit import chain, merkle
from audit.witnessed_models import MerkleNode

log = logging.getLogger(__name__)

CHUNK = 10_000
NOTE_TASK = "audit.witness_checkpoint"  # audit/tasks.py
_PREV_HASH = chain.FIELDS.index("prev_hash")
_LEAF_PREFIX, _NODE_PREFIX = hashlib.sha256(b"\x00"), hashlib.sha256(b"\x01")


@dataclass
class ReadCounter:
    """How many stored hashes were read (tests count a proof's reads with it)."""

    hashes: int = 0


reads = ReadCounter()


class TreeError(Exception):
    """The stored tree cannot answer (behind the log, or a hash is missing)."""


def tree_size() -> int:
    """Leaves stored: the last leaf is the complete range with the largest start."""
    last = MerkleNode.objects.aggregate(last=Max("start"))["last"]
    return 0 if last is None else last + 1


def read(ranges) -> dict[tuple[int, int], bytes]:
    """The stored hashes of these leaf ranges (one query a 500); missing ones are left out."""
    ranges = list(dict.fromkeys(ranges))
    found = {}
    for offset in range(0, len(ranges), 500):
        rows = MerkleNode.objects.filter(pk__in=ranges[offset: offset + 500])
        for start, stop, digest in rows.values_list("start", "stop", "hash"):
            found[(start, stop)] = bytes(digest)
    reads.hashes += len(found)
    return found


def write(rows: list[tuple[int, int, bytes]], *, fresh: bool = False) -> None:
    """Insert (start, stop, hash) rows; a range stored already is left as it is.

    `fresh` rows (the drain's, under its lock) cannot exist yet: on PostgreSQL they are
    COPYed in, as the entries are.
    """
    if not rows:
        return
    if fresh and connection.vendor == "postgresql":
        sql = "COPY audit_merklenode (start, stop, hash) FROM STDIN (FORMAT BINARY)"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.set_types(["int8", "int8", "bytea"])  # binary: no escaping of the hashes
            for row in rows:
                copy.write_row(row)
        return
    if fresh:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO audit_merklenode (start, stop, hash) VALUES (%s, %s, %s)", rows
            )
        return
    MerkleNode.objects.bulk_create(
        [MerkleNode(start=start, stop=stop, hash=digest) for start, stop, digest in rows],
        ignore_conflicts=True, batch_size=2000,
    )


def _border(size: int) -> list[bytes]:
    ranges = merkle.decomposition(0, size)
    found = read(ranges)
    if len(found) != len(ranges):
        raise TreeError(f"the stored tree has no complete border at size {size}")
    return [found[r] for r in ranges]


# The border this process's last drain batch ended on, by its size and head hash: the next
# batch of the same process usually starts there, and then needs no read. A head hash names
# the whole history before it (the chain), so a restored or rewritten log never matches.
_last_border: tuple[int, str, list[bytes]] | None = None


def extend(first_seq: int, rows: list[tuple]) -> None:
    """Add a drain batch's entries, seq first_seq + 1 ..., to the tree.

    `rows` are the drain's chained rows (audit.drain.ENTRY_COLUMNS: prev_hash among the
    fields, the hash last). Called by the drain inside its transaction, after the append. A
    tree that is behind the log (never backfilled) is caught up from the entries first, once.
    """
    global _last_border
    head_hash = rows[0][_PREV_HASH]
    cached = _last_border
    if cached is not None and cached[:2] == (first_seq, head_hash):
        border = cached[2]
    else:
        border = _border_or_none(first_seq)
        if border is None:
            return
    border = list(border)
    nodes, size = [], first_seq
    leaf_prefix, node_prefix = _LEAF_PREFIX.copy, _NODE_PREFIX.copy  # merkle.leaf/node_hash
    for row in rows:  # merkle.CompactRange.append, inlined: this runs in the drain's lock
        sha = leaf_prefix()
        sha.update(bytes.fromhex(row[-1]))
        digest = sha.digest()
        nodes.append((size, size + 1, digest))
        size += 1
        n, width = size, 1
        while not n & 1:
            sha = node_prefix()
            sha.update(border.pop())
            sha.update(digest)
            digest, width, n = sha.digest(), width * 2, n >> 1
            nodes.append((size - width, size, digest))
        border.append(digest)
    write(nodes, fresh=True)
    # Kept now, used only by a batch starting at this exact head: if this transaction rolls
    # back, no committed head ever has this hash (a retry chains other timestamps).
    _last_border = (size, rows[-1][-1], border)
    every = settings.AUDIT_NOTE_EVERY
    if every > 0 and size // every > first_seq // every:
        transaction.on_commit(_queue_note, robust=True)


def _border_or_none(first_seq: int) -> list[bytes] | None:
    """The stored border at the log's size, caught up if the tree is behind; None (and an
    alert) if the tree is ahead of the log."""
    stored = tree_size()
    if stored < first_seq:
        catch_up(upto=first_seq)
    elif stored > first_seq:
        # Entries were cut behind the drain's back. Recording must not stop: the chain goes
        # on, the tree waits, and verification and the witnesses report the cut.
        log.error("AUDIT ALERT: the Merkle tree holds %d leaves but the log only %d entries: "
                  "the log was cut; the tree is not extended until a new epoch starts",
                  stored, first_seq)
        return None
    return _border(first_seq) if first_seq else []


def _queue_note() -> None:
    """After the drain commits a batch that crossed AUDIT_NOTE_EVERY entries: sign and submit
    a note (audit.witness_checkpoint, by name: the task module imports this one)."""
    try:
        current_app.tasks[NOTE_TASK].delay()
    except Exception as exc:  # beat signs within a minute
        log.warning("could not queue the checkpoint note (%s); beat will sign it", exc)


def catch_up(upto: int | None = None, progress=None) -> int:
    """Build the tree from the entries the stored tree lacks (backfill); returns leaves added.

    Reads (seq, hash) by seq in chunks; memory stays O(chunk + log n).
    """
    size = tree_size()
    compact = merkle.CompactRange(size, _border(size) if size else [])
    added = 0
    while upto is None or compact.size < upto:
        limit = CHUNK if upto is None else min(CHUNK, upto - compact.size)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT seq, hash FROM audit_auditentry WHERE seq > %s ORDER BY seq LIMIT %s",
                [compact.size, limit],
            )
            chunk = cursor.fetchall()
        if not chunk:
            break
        rows = []
        for seq, digest in chunk:
            if seq != compact.size + 1:
                raise TreeError(f"entry #{compact.size + 1} is missing: the tree stops there")
            rows.extend(compact.append(merkle.leaf_hash(bytes.fromhex(digest))))
        write(rows, fresh=True)
        added += len(chunk)
        if progress is not None:
            progress(compact.size)
    if upto is not None and compact.size < upto:
        raise TreeError(f"the log has no entry #{compact.size + 1}")
    return added


def frontier_rows(size: int, border: list[bytes]) -> list[tuple[int, int, bytes]]:
    """The right-edge ranges [start_j, size) of a size whose border hashes are given:
    every suffix of the decomposition that spans more than one complete range."""
    ranges = merkle.decomposition(0, size)
    rows = []
    acc = border[-1]
    for j in range(len(ranges) - 2, -1, -1):
        acc = merkle.node_hash(border[j], acc)
        rows.append((ranges[j][0], size, acc))
    return rows


def store_frontier(size: int) -> bytes:
    """Store the right-edge ranges of `size` (once) and return the tree's root at that size."""
    if size == 0:
        return merkle.EMPTY_ROOT
    found = read([(0, size)])
    if (0, size) in found:
        return found[(0, size)]
    border = _border(size)
    rows = frontier_rows(size, border)
    write(rows)
    return rows[-1][2] if rows else border[0]


def root(size: int) -> bytes:
    """The stored tree's root at `size` (its frontier is stored on the way if need be)."""
    return store_frontier(size)


def _proof(ranges, size: int) -> list[bytes]:
    return _proofs([ranges], size)[0]


def _proofs(wanted: list[list[tuple[int, int]]], size: int) -> list[list[bytes]]:
    needed = {r for ranges in wanted for r in ranges}
    found = read(needed)
    if len(found) != len(needed):
        store_frontier(size)  # a size no checkpoint was signed at: store its right edge now
        found = read(needed)
        if len(found) != len(needed):
            raise TreeError(f"the stored tree cannot prove at size {size}")
    return [[found[r] for r in ranges] for ranges in wanted]


def inclusion_proof(index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf `index` (entry seq index + 1) in the tree of `size`."""
    return _proof(merkle.inclusion_ranges(index, size), size)


def inclusion_proofs(indices, size: int) -> list[list[bytes]]:
    """`inclusion_proof` of each leaf index, read together: the ranges the proofs share (the
    upper levels) are read once, 500 a query, rather than one query a proof (a proof bundle
    of 10,000 entries made 10,000 queries and outlived gunicorn's 30 s timeout). A thousand
    proofs at a time, so the hashes held at once stay bounded."""
    indices, proofs = list(indices), []
    for offset in range(0, len(indices), 1000):
        wanted = [merkle.inclusion_ranges(index, size) for index in indices[offset:offset + 1000]]
        proofs.extend(_proofs(wanted, size))
    return proofs


def consistency_proof(old: int, new: int) -> list[bytes]:
    """RFC 9162 consistency proof from the tree of size `old` to the tree of size `new`."""
    return _proof(merkle.consistency_ranges(old, new), new)
