"""Verification: the walk that re-hashes the chain, the checkpoints it checks, and the two
services that run it and record (or alert on) the result.

The walk (verify_chain) reads only; chain_verify (API, verify_audit) and
chain_verify_recent (beat) record `audit.verify` through `audit.record`.
"""

import hashlib
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.cache import cache
from django.db import connection

from audit import chain, context, triggers, witnessed_verify
from audit.actions import Outcome
from audit.checkpoints import checkpoint_public_keys
from audit.models import AuditCheckpoint, AuditEntry
from audit.recording import record
from audit.rows import body_chunks
from audit.writer import chain_head

log = logging.getLogger(__name__)

CHUNK_SIZE = 10_000


@dataclass(frozen=True)
class Verification:
    """The outcome of a walk: ok, how many entries were checked, and the first bad seq."""

    ok: bool
    entries_checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    started_after: int = 0
    last_verified_checkpoint: int = 0


def _signature_ok(public_keys, seq, head_hash, key_id, signature_hex) -> bool:
    raw = public_keys.get(key_id)
    if raw is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(
            bytes.fromhex(signature_hex), chain.checkpoint_message(seq, head_hash)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def _checkpoints() -> tuple[dict[int, str], list[tuple[int, str]]]:
    """Checkpoints whose signatures verify (seq -> head hash), and the bad ones with a reason."""
    public_keys = checkpoint_public_keys()
    good, bad = {}, []
    rows = AuditCheckpoint.objects.order_by("seq").values_list(
        "seq", "head_hash", "key_id", "signature"
    )
    for seq, head_hash, key_id, signature in rows.iterator(chunk_size=2000):
        if _signature_ok(public_keys, seq, head_hash, key_id, signature):
            good[seq] = head_hash
        else:
            bad.append((seq, f"checkpoint #{seq}: its signature does not verify (key {key_id})"))
    return good, bad


def _checkpoints_before(checkpoints: dict[int, str], upto: int) -> tuple[int, str] | None:
    """The first checkpoint at or before `upto` whose entry is gone or differs, if any."""
    wanted = sorted(seq for seq in checkpoints if seq <= upto)
    for start in range(0, len(wanted), 2000):
        part = wanted[start : start + 2000]
        found = dict(AuditEntry.objects.filter(seq__in=part).values_list("seq", "hash"))
        for seq in part:
            if found.get(seq) != checkpoints[seq]:
                return seq, f"#{seq} differs from its signed checkpoint (rewritten or deleted)"
    return None


def verify_chain(
    *,
    after_checkpoint: int = 0,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
    jobs: int = 1,
) -> Verification:
    """Walk the chain by seq in constant memory and check every signed checkpoint against it.

    Names the first bad seq: a rewritten entry (its hash no longer matches), a deleted one (a
    gap in seq), a swapped pair (prev_hash no longer links), a column that no longer says what
    the hashed body says, a truncated tail (a checkpoint signed a longer chain), or a bad
    checkpoint signature. With `after_checkpoint` the walk starts at that (signature-checked)
    checkpoint instead of the genesis. With `jobs` > 1 (PostgreSQL, outside a transaction) the
    seq range is split between that many processes: each entry's check needs only its own row
    and the hash before it, so the ranges are independent and their results are read in order.
    """
    checkpoints, problems = _checkpoints()
    upto = chain_head()[0]  # after the checkpoints: every checkpoint read is at or below it
    start, prev_hash = 0, chain.GENESIS_HASH
    if after_checkpoint:
        if after_checkpoint not in checkpoints:
            problems.append(
                (after_checkpoint, f"checkpoint #{after_checkpoint} verified before is gone or bad")
            )
            after_checkpoint = 0
        else:
            start, prev_hash = after_checkpoint, checkpoints[after_checkpoint]
            earlier = _checkpoints_before(checkpoints, after_checkpoint)
            if earlier:
                problems.append(earlier)
    signed = {seq: head.encode() for seq, head in checkpoints.items()}
    walk = _walk_ranges(start, prev_hash, upto, signed, after_checkpoint, chunk_size, jobs,
                        progress)
    walk_problems = [walk.problem] if walk.problem else []
    drift = _column_drift(start, upto)
    last_seen = start + walk.checked
    if walk.problem is None:
        tail = max(checkpoints, default=0)
        if tail > last_seen:
            walk_problems.append(
                (last_seen + 1, f"entries from #{last_seen + 1} are missing: checkpoint #{tail} "
                                f"signed a longer chain (truncated)")
            )
    # At one seq the walk's finding is named first: it says how the chain broke.
    problems = walk_problems + ([drift] if drift else []) + problems
    if not problems:
        return Verification(True, walk.checked, None, "", after_checkpoint, walk.last_checkpoint)
    first_bad, reason = min(problems, key=lambda problem: problem[0])
    checked = walk.checked
    if drift and first_bad == drift[0]:  # the walk went past it: count the entries before it
        checked = min(checked, first_bad - 1 - start)
    return Verification(False, checked, first_bad, reason, after_checkpoint, walk.last_checkpoint)


@dataclass(frozen=True)
class _Walk:
    problem: tuple[int, str] | None
    checked: int
    last_checkpoint: int


MIN_ENTRIES_PER_JOB = 100_000  # below this a second process costs more than it saves


def _walk_ranges(start, prev_hash, upto, signed, last_checkpoint, chunk_size, jobs, progress):
    """Walk (start, upto], in one process or split into `jobs` consecutive ranges."""
    jobs = min(jobs, (upto - start) // MIN_ENTRIES_PER_JOB)
    if (jobs < 2 or connection.vendor != "postgresql" or connection.in_atomic_block
            or not connection.get_autocommit()):
        # Inside a transaction other processes could not see what this one sees.
        return _walk(start, prev_hash, upto, signed, last_checkpoint, chunk_size, progress)
    bounds = [start + (upto - start) * k // jobs for k in range(jobs + 1)]
    # Each range starts from the stored hash before it; if that entry is gone or wrong, the
    # range before it reports so at a lower seq, and the first problem in seq order wins.
    stored = dict(AuditEntry.objects.filter(seq__in=bounds[1:-1]).values_list("seq", "hash"))
    starts = [(bounds[0], prev_hash, last_checkpoint)] + [
        (b, stored.get(b, chain.GENESIS_HASH), max((s for s in signed if s <= b), default=0))
        for b in bounds[1:-1]
    ]
    connection.close()  # the processes fork: none may share this connection's socket
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [
            pool.submit(_walk_in_process, after, prev, end, signed, last, chunk_size)
            for (after, prev, last), end in zip(starts, bounds[1:], strict=True)
        ]
        checked, last = 0, last_checkpoint
        for future, end in zip(futures, bounds[1:], strict=True):
            part = future.result()
            checked += part.checked
            last = max(last, part.last_checkpoint)
            if part.problem:
                return _Walk(part.problem, checked, last)
            if progress is not None:
                progress(end)
    return _Walk(None, checked, last)


def _walk_in_process(*args) -> _Walk:
    """A forked walker: its own connection, closed before the process ends."""
    try:
        return _walk(*args, None)
    finally:
        connection.close()


def _walk(after_seq, prev_hash, upto, signed, last_checkpoint, chunk_size, progress) -> _Walk:
    """Check every entry in (after_seq, upto]: no gap, its prev_hash links to the entry before
    (the column, which the constraint ties to the body), and SHA-256(prev + body) is its hash."""
    expected, prev, checked = after_seq + 1, prev_hash.encode(), 0
    new_sha256 = hashlib.sha256().copy  # copying a fresh context beats OpenSSL 3's constructor
    entries = AuditEntry.objects.all()
    # No upper bound in the query: on a table without statistics it makes every chunk sort
    # the rest of the table. The walk stops at `upto` itself.
    fields = ("seq", "body", "hash", "prev_hash")
    with closing(body_chunks(entries, after_seq, chunk_size, fields)) as chunks:
        for chunk in chunks:
            for seq, body, digest, claimed_prev in chunk:
                if seq != expected or seq > upto:
                    if expected > upto:  # past the range: done
                        return _Walk(None, checked, last_checkpoint)
                    problem = (expected, f"#{expected} is missing (the next entry is #{seq})")
                    return _Walk(problem, checked, last_checkpoint)
                if claimed_prev != prev:
                    problem = (seq, f"#{seq}: prev_hash does not link to #{seq - 1}")
                    return _Walk(problem, checked, last_checkpoint)
                sha = new_sha256()
                sha.update(prev)
                sha.update(body)
                computed = sha.hexdigest().encode()
                if computed != digest:
                    problem = (seq, f"#{seq}: its content no longer matches its hash")
                    return _Walk(problem, checked, last_checkpoint)
                if seq in signed:
                    if signed[seq] != computed:
                        problem = (
                            last_checkpoint + 1,
                            f"the chain at #{seq} differs from its signed checkpoint: entries "
                            f"after #{last_checkpoint} were rewritten",
                        )
                        return _Walk(problem, checked, last_checkpoint)
                    last_checkpoint = seq
                checked += 1
                prev = computed
                expected += 1
            if progress is not None:
                progress(expected - 1)
    if expected <= upto:  # the range ends in missing entries
        following = AuditEntry.objects.filter(seq__gt=expected).order_by("seq")
        after = following.values_list("seq", flat=True).first()
        problem = (expected, f"#{expected} is missing (the next entry is #{after})")
        return _Walk(problem, checked, last_checkpoint)
    return _Walk(None, checked, last_checkpoint)


def _column_drift(after_seq: int, upto: int) -> tuple[int, str] | None:
    """The first entry whose columns no longer say what its hashed body says, if any.

    On PostgreSQL a validated CHECK constraint guarantees there is none. Without it (SQLite,
    or a PostgreSQL table whose constraint was dropped) the rows are compared in Python.
    """
    if connection.vendor == "postgresql" and triggers.body_constraint_holds(connection):
        return None
    entries = AuditEntry.objects.filter(seq__gt=after_seq, seq__lte=upto).order_by("seq")
    seq = next((e.seq for e in entries.iterator(chunk_size=2000) if not _matches(e)), None)
    if seq is None:
        return None
    return seq, f"#{seq}: its columns no longer match its hashed content"


def _matches(entry: AuditEntry) -> bool:
    """Byte for byte: the body is what the columns spell canonically (so true is not 1)."""
    return chain.canonical_json(chain.entry_dict(entry)) == entry.body.encode()


VERIFIED_CHECKPOINT_KEY = "audit:verified-checkpoint"


def _alert_broken(result, scope: str) -> None:
    log.error(
        "AUDIT ALERT: the audit chain is broken (%s): first bad seq #%s: %s",
        scope,
        result.first_bad_seq,
        result.reason,
    )


def chain_verify(*, actor, progress=None, jobs: int = 1):
    """Verify the whole chain and record who did (audit.verify); logs an alert when broken.

    `jobs` processes share the walk on PostgreSQL (manage.py verify_audit uses every core).
    """
    result = verify_chain(progress=progress, jobs=jobs)
    # The witnessed log: the Merkle tree, the latest checkpoint note and the witnesses' quorum.
    result = witnessed_verify.verify_witnessed(result)
    if not result.ok:
        _alert_broken(result, "full verification")
    record(
        "audit.verify",
        actor,
        target=("audit", "chain"),
        outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
        entries_checked=result.entries_checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
    )
    return result


def chain_verify_recent():
    """Verify the entries since the last checkpoint verified (beat); alerts when broken.

    Every checkpoint's signature, and that each checkpointed entry still has its signed hash,
    are checked on every run; the walk starts at the checkpoint the previous run verified.
    Only a failure is recorded as an entry, so a quiet chain stays quiet.
    """

    try:
        start = int(cache.get(VERIFIED_CHECKPOINT_KEY) or 0)
    except Exception:  # cache down: walk from the genesis
        start = 0
    result = verify_chain(after_checkpoint=start)
    if result.ok:
        log.info(
            "audit chain verified: %d entries after #%d", result.entries_checked, start
        )
        try:
            cache.set(VERIFIED_CHECKPOINT_KEY, result.last_verified_checkpoint, timeout=None)
        except Exception as exc:
            log.warning("could not remember the verified checkpoint: %s", exc)
        return result
    _alert_broken(result, f"entries after #{start}")
    with context.system_actor("task audit.verify_recent"):
        record(
            "audit.verify",
            None,
            target=("audit", "chain"),
            outcome=Outcome.FAILURE,
            entries_checked=result.entries_checked,
            first_bad_seq=result.first_bad_seq,
            reason=result.reason,
            after_checkpoint=start,
        )
    return result
