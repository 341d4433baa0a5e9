"""Reading the audit trail: the auditors' gate, the chain rows, and the walk that verifies them."""

import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import connection
from django.db.models import CharField, F, Func, Q, QuerySet, TextField
from django.db.models.functions import Cast

from audit import chain
from audit.models import AuditCheckpoint, AuditEntry
from workinggroup.keyring import get_keyring

VIEW_PERMISSION = "audit.view_auditentry"
CHUNK_SIZE = 5000
ROW_FIELDS = (*chain.FIELDS, "hash")  # what the chain hashes, then its hash: an export line
_SEQ, _DETAILS, _PREV, _HASH = 0, 13, 14, 15
assert ROW_FIELDS.index("details") == _DETAILS and ROW_FIELDS.index("hash") == _HASH


# --- Who may read ---------------------------------------------------------------------------


def can_read_audit(user) -> bool:
    """Auditors (the role's model permission) of a country, or of trilateral oversight."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(VIEW_PERMISSION)
        and (user.oversight or user.country_id)
    )


def entries_visible_to(user) -> QuerySet:
    """The one gate for audit entries: oversight sees all; a country auditor sees entries whose
    actor or case belongs to their country; everyone else nothing."""
    entries = AuditEntry.objects.all()
    if not can_read_audit(user):
        return entries.none()
    if user.oversight:
        return entries
    return entries.filter(Q(actor_country=user.country_id) | Q(case_country=user.country_id))


# --- Chain rows, streamed -------------------------------------------------------------------


class _UtcText(Func):
    """A timestamp as the chain spells it, formatted by PostgreSQL (cheaper than in Python)."""

    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    output_field = CharField()


_AFTER = -7_919_113  # stands for "seq greater than" while the chunk query is compiled


def _row_chunks(queryset: QuerySet, after_seq: int, chunk_size: int) -> Iterator[list]:
    """Rows of the queryset by seq, a chunk at a time (keyset pagination on seq).

    Each row is a tuple in ROW_FIELDS order with the timestamps formatted and details as JSON
    text (decoding is left to the caller, which is the hot loop of verification). Constant
    memory: at most two chunks of tuples, never model instances. On PostgreSQL the database
    formats the timestamps (psycopg's timestamptz parsing costs more than the whole rest)
    and the next chunk is fetched, on the same connection so inside the same transaction,
    while the caller works on this one.
    """
    rows = queryset.annotate(_details=Cast("details", TextField()))
    names = {"details": "_details"}
    postgres = connection.vendor == "postgresql"
    if postgres:
        rows = rows.annotate(
            _occurred=_UtcText(F("occurred_at")), _recorded=_UtcText(F("recorded_at"))
        )
        names.update(occurred_at="_occurred", recorded_at="_recorded")
    rows = rows.order_by("seq").values_list(*(names.get(f, f) for f in ROW_FIELDS))
    if not postgres:
        fmt = chain.format_timestamp
        while True:
            chunk = [
                (r[0], fmt(r[1]), fmt(r[2]), *r[3:])
                for r in rows.filter(seq__gt=after_seq)[:chunk_size]
            ]
            if not chunk:
                return
            yield chunk
            if len(chunk) < chunk_size:
                return
            after_seq = chunk[-1][_SEQ]

    sql, params = rows.filter(seq__gt=_AFTER)[:chunk_size].query.sql_with_params()
    params, slot = list(params), params.index(_AFTER)
    connection.ensure_connection()
    raw = connection.connection  # a psycopg connection is thread-safe; cursors are not shared

    def fetch(after):
        params[slot] = after
        with raw.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-chain-read") as reader:
        pending = reader.submit(fetch, after_seq)
        while True:
            chunk = pending.result()
            if not chunk:
                return
            full = len(chunk) == chunk_size
            if full:  # the database works on the next chunk while the caller works on this
                pending = reader.submit(fetch, chunk[-1][_SEQ])
            yield chunk
            if not full:
                return


def chain_rows(
    queryset: QuerySet | None = None, *, after_seq: int = 0, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple]:
    """Each entry as a tuple in ROW_FIELDS order (timestamps formatted, details decoded)."""
    queryset = AuditEntry.objects.all() if queryset is None else queryset
    loads = orjson.loads
    with closing(_row_chunks(queryset, after_seq, chunk_size)) as chunks:
        for chunk in chunks:
            for r in chunk:
                yield (*r[:_DETAILS], loads(r[_DETAILS]), r[_PREV], r[_HASH])


def export_lines(queryset: QuerySet, *, chunk_size: int = 1000) -> Iterator[bytes]:
    """JSON Lines of exactly the chain's objects (the hashed fields plus "hash"), by seq."""
    dumps, loads, sort_keys = orjson.dumps, orjson.loads, orjson.OPT_SORT_KEYS
    with closing(_row_chunks(queryset, 0, chunk_size)) as chunks:
        for chunk in chunks:
            lines = []
            for r in chunk:
                entry = dict(zip(ROW_FIELDS, r, strict=True))
                entry["details"] = loads(r[_DETAILS])
                lines.append(dumps(entry, option=sort_keys))
            yield b"\n".join(lines) + b"\n"


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The outcome of a walk: ok, how many entries were checked, and the first bad seq."""

    ok: bool
    entries_checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    started_after: int = 0
    last_verified_checkpoint: int = 0


def checkpoint_public_keys() -> dict[str, bytes]:
    """Every audit signing key's public half (raw 32 bytes) by key id."""
    return get_keyring().audit_public_keys()


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
) -> Verification:
    """Walk the chain by seq in constant memory and check every signed checkpoint against it.

    Names the first bad seq: a rewritten entry (its hash no longer matches), a deleted one (a
    gap in seq), a swapped pair (prev_hash no longer links), a truncated tail (a checkpoint
    signed a longer chain), or a bad checkpoint signature. With `after_checkpoint` the walk
    starts at that (signature-checked) checkpoint instead of the genesis.
    """
    checkpoints, problems = _checkpoints()
    expected, prev_hash = 1, chain.GENESIS_HASH
    if after_checkpoint:
        if after_checkpoint not in checkpoints:
            problems.append(
                (after_checkpoint, f"checkpoint #{after_checkpoint} verified before is gone or bad")
            )
            after_checkpoint = 0
        else:
            expected, prev_hash = after_checkpoint + 1, checkpoints[after_checkpoint]
            earlier = _checkpoints_before(checkpoints, after_checkpoint)
            if earlier:
                problems.append(earlier)
    last_checkpoint = after_checkpoint
    checked, broken = 0, None
    new_sha256, dumps, loads, sort_keys = hashlib.sha256().copy, orjson.dumps, orjson.loads, \
        orjson.OPT_SORT_KEYS
    with closing(_row_chunks(AuditEntry.objects.all(), expected - 1, chunk_size)) as chunks:
        for chunk in chunks:
            for r in chunk:
                seq = r[0]
                if seq != expected:
                    broken = (expected, f"#{expected} is missing (the next entry is #{seq})")
                    break
                if r[14] != prev_hash:
                    broken = (seq, f"#{seq}: prev_hash does not link to #{seq - 1}")
                    break
                sha = new_sha256()  # copying a fresh context beats OpenSSL 3's constructor
                sha.update(prev_hash.encode())
                sha.update(dumps({  # chain.FIELDS, written in canonical (sorted) order
                    "action": r[5], "actor": r[3], "actor_country": r[4], "case_country": r[9],
                    "case_id": r[8], "details": loads(r[13]), "ip": r[11], "occurred_at": r[1],
                    "outcome": r[10], "prev_hash": prev_hash, "recorded_at": r[2],
                    "request_id": r[12], "seq": seq, "target_id": r[7], "target_type": r[6],
                }, option=sort_keys))  # fmt: skip
                digest = sha.hexdigest()
                if digest != r[15]:
                    broken = (seq, f"#{seq}: its content no longer matches its hash")
                    break
                if seq in checkpoints:
                    if checkpoints[seq] != digest:
                        broken = (
                            last_checkpoint + 1,
                            f"the chain at #{seq} differs from its signed checkpoint: entries "
                            f"after #{last_checkpoint} were rewritten",
                        )
                        break
                    last_checkpoint = seq
                checked += 1
                prev_hash = digest
                expected += 1
            if broken:
                problems.append(broken)
                break
            if progress is not None:
                progress(expected - 1)
    if broken is None:
        tail = max(checkpoints, default=0)
        if tail >= expected:
            problems.append(
                (expected, f"entries from #{expected} are missing: checkpoint #{tail} "
                           f"signed a longer chain (truncated)")
            )
    if not problems:
        return Verification(True, checked, None, "", after_checkpoint, last_checkpoint)
    first_bad, reason = min(problems)
    return Verification(False, checked, first_bad, reason, after_checkpoint, last_checkpoint)


def chain_head() -> tuple[int, str]:
    """(seq, hash) of the newest entry; (0, genesis) for an empty chain."""
    head = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return head or (0, chain.GENESIS_HASH)
