"""The chain's canonical JSON: orjson (the service) and the stdlib (anyone) agree byte for byte."""

import hashlib
import json

import orjson
import pytest

from audit import chain


def stdlib(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


EVERY_CONTROL_CHARACTER = "".join(map(chr, range(0x20))) + "\x7f\x80\x9f"
TRICKY = [
    {"text": EVERY_CONTROL_CHARACTER},
    {"text": "Señal «ñandú» Ünïcödé 漢字 ქართ 😀 \U0010ffff \ufeff \u2028\u2029 / \\ \""},
    {"é": 1, "e": 2, "Z": 3, "a": 4, "😀": 5, "\uffff": 6, "\U00010000": 7, "": 8, "a\x00": 9},
    {"n": [2**63 - 1, -(2**63), 0, -1], "b": [True, False, None], "empty": [{}, [], ""]},
    {"deep": {"z": {"y": {"x": [{"b": 1, "a": 2}]}}}},
]


@pytest.mark.parametrize("value", TRICKY)
def test_orjson_and_the_stdlib_write_the_same_bytes(value):
    assert chain.canonical_json(value) == stdlib(value)


def test_a_whole_entry_hashes_the_same_both_ways():
    entry = {name: "" for name in chain.FIELDS}
    entry.update(seq=7, details=TRICKY[1] | TRICKY[2], prev_hash=chain.GENESIS_HASH)
    by_stdlib = hashlib.sha256(chain.GENESIS_HASH.encode() + stdlib(entry)).hexdigest()
    assert chain.entry_hash(chain.GENESIS_HASH, entry) == by_stdlib


def test_canonical_json_has_sorted_keys_no_spaces_and_raw_utf8():
    assert chain.canonical_json({"b": "é", "a": [1, 2]}) == '{"a":[1,2],"b":"é"}'.encode()


def test_timestamps_are_utc_with_microseconds_and_a_z():
    import datetime as dt

    at = dt.datetime(2026, 3, 4, 5, 6, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=-6)))
    assert chain.format_timestamp(at) == "2026-03-04T11:06:07.000000Z"


def test_the_checkpoint_message_is_exactly_the_documented_bytes():
    assert chain.checkpoint_message(1000, "ab" * 32) == (
        b"wgx-audit-checkpoint-v1\n1000\n" + b"ab" * 32
    )


def test_orjson_refuses_what_record_never_lets_through():
    # Lone surrogates and integers past 64 bits: record() rewrites both (see test_outbox...).
    with pytest.raises(TypeError):
        orjson.dumps({"s": "\ud800"})
    with pytest.raises(TypeError):
        orjson.dumps({"n": 2**64})
