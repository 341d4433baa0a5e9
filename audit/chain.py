"""The chain's arithmetic, exactly as docs/audit.md gives it, so anyone can re-check it.

hash = SHA-256(prev_hash + canonical JSON of the entry without its hash), where canonical
JSON has sorted keys, no spaces, UTF-8, and timestamps in ISO 8601 UTC with a Z.
"""

import datetime as dt
import hashlib

import orjson

GENESIS_HASH = "0" * 64
FIELDS = (
    "seq",
    "occurred_at",
    "recorded_at",
    "actor",
    "actor_country",
    "action",
    "target_type",
    "target_id",
    "case_id",
    "case_country",
    "outcome",
    "ip",
    "request_id",
    "details",
    "prev_hash",
)

# In the body of every entry chained since migration audit.0004 (absent before): the country
# codes whose auditors may read it, sorted (audit/visibility.py).
READERS = "readers"


TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_timestamp(value: dt.datetime) -> str:
    """ISO 8601 in UTC with microseconds and a Z: one spelling for every timestamp."""
    return value.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def canonical_json(entry: dict) -> bytes:
    """Sorted keys, separators ',' and ':', UTF-8 (orjson matches json.dumps byte for byte)."""
    return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)


def body_hash(prev_hash: str, body: bytes) -> str:
    """The hash of an entry whose canonical JSON (its stored body) is `body`."""
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


def entry_hash(prev_hash: str, entry: dict) -> str:
    """The hash of an entry (a dict of FIELDS, timestamps already formatted)."""
    return body_hash(prev_hash, canonical_json(entry))


def entry_dict(entry) -> dict:
    """An AuditEntry as the dict that is hashed and exported (without its hash)."""
    data = {name: getattr(entry, name) for name in FIELDS}
    data["occurred_at"] = format_timestamp(entry.occurred_at)
    data["recorded_at"] = format_timestamp(entry.recorded_at)
    if entry.readers is not None:
        data[READERS] = entry.readers.split(",") if entry.readers else []
    return data


CHECKPOINT_MESSAGE = b"wgx-audit-checkpoint-v1\n%d\n%s"
CHECKPOINT_MESSAGE_TEMPLATE = "wgx-audit-checkpoint-v1\n{seq}\n{head_hash}"  # for the API


def checkpoint_message(seq: int, head_hash: str) -> bytes:
    """The exact bytes a checkpoint's Ed25519 signature covers."""
    return CHECKPOINT_MESSAGE % (seq, head_hash.encode("ascii"))
