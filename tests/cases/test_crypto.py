"""Tests for cases.crypto, the WGXA v1 attachment format (plain pytest, no Django)."""

import base64
import hashlib
import io
import os
import struct
import traceback
import tracemalloc
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from cases import crypto
from cases.crypto import (
    HEADER_SIZE,
    AttachmentIntegrityError,
    Header,
    StreamEncryptor,
    decrypt_stream,
    rewrap,
)

SEG = crypto.DEFAULT_SEGMENT_SIZE
FULL = SEG + crypto.TAG_SIZE  # a non-final segment on disk
H = HEADER_SIZE
KEY_ID = "us-2026-01"
KEK = os.urandom(32)
OTHER_KEK = os.urandom(32)
AID = str(uuid.uuid4())
KEYRING = {KEY_ID: KEK}


def encrypt(data, *, chunks=None, kek=KEK, key_id=KEY_ID, aid=AID, segment_size=SEG):
    """Encrypt data, fed to update() in the given chunk sizes (cycled), or at once."""
    enc = StreamEncryptor(
        attachment_id=aid, kek=kek, key_id=key_id, segment_size=segment_size
    )
    out = [enc.header_bytes]
    if chunks is None:
        out.append(enc.update(data))
    else:
        pos, i = 0, 0
        while pos < len(data):
            n = chunks[i % len(chunks)]
            out.append(enc.update(data[pos : pos + n]))
            pos, i = pos + n, i + 1
    out.append(enc.finish())
    return b"".join(out), enc


def decrypt(blob, *, aid=AID, keyring=KEYRING):
    """Decrypt fully via the public API."""
    return b"".join(
        decrypt_stream(
            io.BytesIO(blob), attachment_id=aid, kek_lookup=keyring.__getitem__
        )
    )


def reference_segments(blob, attachment_id, kek):
    """Decoder written from docs/encryption.md alone, to pin the documented format."""
    magic, version, _kid_len, _kid, wrapped, prefix, seg = struct.unpack(
        ">4sBB32s40s7sI", blob[:89]
    )
    aead = AESGCM(aes_key_unwrap(kek, wrapped))
    ad = hashlib.sha256(
        magic
        + bytes([version])
        + prefix
        + seg.to_bytes(4, "big")
        + uuid.UUID(attachment_id).bytes
    ).digest()
    body, step = blob[89:], seg + 16
    parts = [body[i : i + step] for i in range(0, len(body), step)]
    return [
        aead.decrypt(
            prefix + i.to_bytes(4, "big") + bytes([i == len(parts) - 1]), c, ad
        )
        for i, c in enumerate(parts)
    ]


def n_segments(size):
    return max(1, -(-size // SEG))


# --- round trips ----------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 5])
def test_round_trip(size):
    data = os.urandom(size)
    blob, enc = encrypt(data)
    assert decrypt(blob) == data
    assert enc.plaintext_size == size
    assert enc.plaintext_sha256 == hashlib.sha256(data).hexdigest()
    assert len(blob) == H + size + 16 * n_segments(size)


def test_round_trip_with_odd_chunk_sizes_keeps_segment_boundaries():
    data = os.urandom(5 * SEG + 12345)
    blob, enc = encrypt(data, chunks=[1, 7, 65535, 100000])
    assert decrypt(blob) == data
    assert enc.plaintext_sha256 == hashlib.sha256(data).hexdigest()
    # Chunking must not leak into the format: segments are SEG long but the last.
    sizes = [len(p) for p in reference_segments(blob, AID, KEK)]
    assert sizes == [SEG] * 5 + [12345]


def test_update_accepts_bytearray_and_memoryview_and_read_callable():
    data = os.urandom(SEG + 3)
    enc = StreamEncryptor(attachment_id=AID, kek=KEK, key_id=KEY_ID)
    blob = enc.header_bytes + enc.update(bytearray(data[:10]))
    blob += enc.update(memoryview(data)[10:]) + enc.finish()
    stream = decrypt_stream(
        io.BytesIO(blob).read, attachment_id=AID, kek_lookup=KEYRING.__getitem__
    )
    assert b"".join(stream) == data


def test_encryptor_holds_back_a_full_segment_until_more_data_arrives():
    enc = StreamEncryptor(attachment_id=AID, kek=KEK, key_id=KEY_ID)
    assert enc.update(b"a" * SEG) == b""  # might be the last segment: keep it
    assert len(enc.update(b"b")) == FULL  # now known not to be last
    assert len(enc.finish()) == 1 + 16


def test_empty_file_is_one_empty_final_segment():
    blob, enc = encrypt(b"")
    assert len(blob) == H + 16
    assert reference_segments(blob, AID, KEK) == [b""]
    assert enc.plaintext_sha256 == hashlib.sha256(b"").hexdigest()


def test_50_mib_streams_in_constant_memory(tmp_path):
    path, src_hash = tmp_path / "big.wgxa", hashlib.sha256()
    enc = StreamEncryptor(attachment_id=AID, kek=KEK, key_id=KEY_ID)
    with path.open("wb") as out:
        out.write(enc.header_bytes)
        for _ in range(50):
            chunk = os.urandom(1024 * 1024 - 1)  # never aligned to a segment
            src_hash.update(chunk)
            out.write(enc.update(chunk))
        chunk = os.urandom(50)
        src_hash.update(chunk)
        out.write(enc.update(chunk) + enc.finish())
    assert enc.plaintext_sha256 == src_hash.hexdigest()

    out_hash, largest = hashlib.sha256(), 0
    with path.open("rb") as f:
        tracemalloc.start()
        try:
            for piece in decrypt_stream(
                f, attachment_id=AID, kek_lookup=KEYRING.__getitem__
            ):
                largest = max(largest, len(piece))
                out_hash.update(piece)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert out_hash.hexdigest() == src_hash.hexdigest()
    assert largest == SEG
    assert peak < 1024 * 1024  # ~2 segments, nowhere near 50 MiB


def test_decrypt_reads_lazily_at_most_two_segments_ahead():
    blob, _ = encrypt(os.urandom(10 * SEG))
    src = io.BytesIO(blob)
    stream = decrypt_stream(src, attachment_id=AID, kek_lookup=KEYRING.__getitem__)
    assert src.tell() == H  # header checked and key unwrapped, body untouched
    next(stream)
    assert src.tell() == H + 2 * FULL


# --- the documented format --------------------------------------------------------


def test_layout_matches_the_documented_table():
    blob, enc = encrypt(b"hello", key_id="mx-7")
    h = enc.header
    assert blob[0:4] == b"WGXA"
    assert blob[4] == 1
    assert blob[5] == 4
    assert blob[6:38] == b"mx-7" + bytes(28)
    assert blob[38:78] == h.wrapped_key
    assert blob[78:85] == h.nonce_prefix
    assert blob[85:89] == (65536).to_bytes(4, "big")
    assert Header.parse(io.BytesIO(blob).read(HEADER_SIZE)) == h
    assert reference_segments(blob, AID, KEK) == [b"hello"]


def test_header_round_trip():
    h = Header(key_id="gt-1", wrapped_key=bytes(40), nonce_prefix=bytes(7))
    assert Header.parse(h.to_bytes()) == h
    assert len(h.to_bytes()) == 89


def test_every_file_gets_a_fresh_data_key_and_nonce_prefix():
    a, ea = encrypt(b"same")
    b, eb = encrypt(b"same")
    assert ea.header.wrapped_key != eb.header.wrapped_key
    assert ea.header.nonce_prefix != eb.header.nonce_prefix
    assert a[H:] != b[H:]


# --- strict header parsing ------------------------------------------------------------


def _header_with(**fields):
    """A header's bytes with raw struct fields replaced (no validation)."""
    base = {
        "magic": b"WGXA",
        "version": 1,
        "kid_len": 4,
        "kid": b"us-1",
        "wrapped": bytes(40),
        "prefix": bytes(7),
        "seg": SEG,
    }
    base.update(fields)
    return struct.pack(">4sBB32s40s7sI", *base.values())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_header_with()[:-1], "header is 88 bytes"),
        (_header_with() + b"\0", "header is 90 bytes"),
        (_header_with(magic=b"WGXB"), "bad magic"),
        (_header_with(version=0), "unsupported format version 0"),
        (_header_with(version=2), "unsupported format version 2"),
        (_header_with(kid_len=0, kid=b""), "malformed key id field"),
        (_header_with(kid_len=33), "malformed key id field"),
        (_header_with(kid=b"us-1\0\0\0x"), "malformed key id field"),
        (_header_with(kid=b"\xff\xfe-1"), "malformed header: 'utf-8' codec"),
        (_header_with(kid_len=2, kid=b"\x01a"), "printable"),
        (_header_with(seg=0), "segment size 0 is outside"),
        (_header_with(seg=1023), "segment size 1023 is outside"),
        (_header_with(seg=2**24 + 1), "segment size 16777217 is outside"),
    ],
)
def test_malformed_headers_are_rejected(data, message):
    with pytest.raises(AttachmentIntegrityError, match=message):
        Header.parse(data)
    assert Header.parse(_header_with()).key_id == "us-1"  # the baseline is valid


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kek": bytes(16)}, "kek must be 32 bytes"),
        ({"key_id": ""}, "key id must be 1..32"),
        ({"key_id": "k" * 33}, "key id must be 1..32"),
        ({"key_id": "é" * 17}, "key id must be 1..32"),  # 34 bytes of UTF-8
        ({"key_id": "us\n1"}, "printable"),
        ({"segment_size": 1023}, "segment size 1023"),
        ({"attachment_id": "not-a-uuid"}, "badly formed"),
    ],
)
def test_encryptor_rejects_bad_arguments(kwargs, message):
    args = {"attachment_id": AID, "kek": KEK, "key_id": KEY_ID, **kwargs}
    with pytest.raises(ValueError, match=message):
        StreamEncryptor(**args)


def test_encryptor_misuse_raises():
    enc = StreamEncryptor(attachment_id=AID, kek=KEK, key_id=KEY_ID)
    with pytest.raises(RuntimeError, match="only after finish"):
        _ = enc.plaintext_sha256
    enc.finish()
    with pytest.raises(RuntimeError, match="after finish"):
        enc.update(b"x")
    with pytest.raises(RuntimeError, match="called twice"):
        enc.finish()


def test_any_spelling_of_the_attachment_uuid_binds_alike():
    blob, _ = encrypt(b"data", aid=AID)
    assert decrypt(blob, aid=AID.upper()) == b"data"
    assert decrypt(blob, aid=uuid.UUID(AID)) == b"data"
    assert decrypt(blob, aid="{" + AID + "}") == b"data"


# --- tampering ------------------------------------------------------------------------

SAMPLE = os.urandom(3 * SEG + 1000)  # segments 0, 1, 2 full; 3 short and final
SAMPLE_BLOB, _ = encrypt(SAMPLE)


def flip(pos, bit=0):
    def mutate(b):
        b = bytearray(b)
        b[pos] ^= 1 << bit
        return bytes(b)

    return mutate


def seg_at(b, i):
    return b[H + i * FULL : H + (i + 1) * FULL]


def swap01(b):
    return b[:H] + seg_at(b, 1) + seg_at(b, 0) + b[H + 2 * FULL :]


def set_byte(pos, value):
    return lambda b: b[:pos] + bytes([value]) + b[pos + 1 :]


TAMPERS = {
    "bit in segment 0": (flip(H + 10), "segment 0 failed"),
    "bit in segment 2": (flip(H + 2 * FULL + 500, 7), "segment 2 failed"),
    "bit in final tag": (flip(len(SAMPLE_BLOB) - 1), "segment 3 failed"),
    "magic": (flip(0), "bad magic"),
    "version": (flip(4), "unsupported format version 0"),
    "key id": (flip(6), "unknown key id 'ts-2026-01'"),
    "key id length up": (set_byte(5, 11), "printable"),  # takes in a NUL
    "key id length down": (set_byte(5, 9), "malformed key id field"),
    "wrapped key": (flip(50), "does not unwrap"),
    "nonce prefix": (flip(80), "segment 0 failed"),
    "segment size low bit": (flip(88), "segment 0 failed"),  # 65537: still legal
    "segment size high bit": (flip(85, 7), "segment size .* is outside"),
    "dropped last segment": (lambda b: b[: H + 3 * FULL], "segment 2 failed"),
    "dropped first segment": (lambda b: b[:H] + b[H + FULL :], "segment 0 failed"),
    "cut inside last segment": (lambda b: b[:-1], "segment 3 failed"),
    "cut inside header": (lambda b: b[:50], "header is 50 bytes"),
    "body removed": (lambda b: b[:H], "ends before the final segment"),
    "segments swapped": (swap01, "segment 0 failed"),
    "segment repeated": (
        lambda b: b[: H + FULL] + seg_at(b, 0) + b[H + 2 * FULL :],
        "segment 1 failed",
    ),
    "trailing byte": (lambda b: b + b"\0", "segment 3 failed"),
    "trailing segment of garbage": (lambda b: b + os.urandom(FULL), "segment 3 failed"),
}


@pytest.mark.parametrize("name", TAMPERS)
def test_tampering_is_detected(name):
    mutate, message = TAMPERS[name]
    tampered = mutate(SAMPLE_BLOB)
    assert tampered != SAMPLE_BLOB
    with pytest.raises(AttachmentIntegrityError, match=message):
        decrypt(tampered)


def test_untampered_sample_decrypts():
    assert decrypt(SAMPLE_BLOB) == SAMPLE  # the baseline the tamper cases edit


def test_truncation_at_a_segment_boundary_of_an_aligned_file():
    blob, _ = encrypt(os.urandom(3 * SEG))
    with pytest.raises(AttachmentIntegrityError, match="segment 1 failed"):
        decrypt(blob[: H + 2 * FULL])
    with pytest.raises(AttachmentIntegrityError, match="segment 2 failed"):
        decrypt(blob + b"x")


def test_segment_spliced_from_another_file_of_the_same_attachment():
    # Realistic: the same document uploaded twice to one attachment id, same KEK.
    a, _ = encrypt(SAMPLE)
    b, _ = encrypt(SAMPLE)
    spliced = a[: H + FULL] + seg_at(b, 1) + a[H + 2 * FULL :]
    with pytest.raises(AttachmentIntegrityError, match="segment 1 failed"):
        decrypt(spliced)
    with pytest.raises(AttachmentIntegrityError, match="segment 0 failed"):
        decrypt(b[:H] + a[H:])  # the other file's header (and data key) on this body


def test_ciphertext_moved_to_another_attachment():
    with pytest.raises(AttachmentIntegrityError, match="segment 0 failed"):
        decrypt(SAMPLE_BLOB, aid=str(uuid.uuid4()))


def test_wrong_or_unknown_kek():
    with pytest.raises(AttachmentIntegrityError, match="does not unwrap"):
        decrypt(SAMPLE_BLOB, keyring={KEY_ID: OTHER_KEK})
    with pytest.raises(AttachmentIntegrityError, match="unknown key id 'us-2026-01'"):
        decrypt(SAMPLE_BLOB, keyring={})


def test_empty_final_segment_after_data_is_rejected():
    # Only a foreign encoder holding the data key could write this; it is not canonical.
    blob, enc = encrypt(b"x" * SEG)
    h = enc.header
    aead = AESGCM(aes_key_unwrap(KEK, h.wrapped_key))
    ad = crypto._segment_ad(h, uuid.UUID(AID))
    body = aead.encrypt(h.nonce_prefix + bytes(4) + b"\0", b"x" * SEG, ad)
    body += aead.encrypt(h.nonce_prefix + (1).to_bytes(4, "big") + b"\1", b"", ad)
    with pytest.raises(AttachmentIntegrityError, match="empty final segment"):
        decrypt(blob[:H] + body)


def test_segment_counter_overflow(monkeypatch):
    blob, _ = encrypt(os.urandom(2 * SEG + 1))  # three segments
    monkeypatch.setattr(crypto, "MAX_SEGMENTS", 2)
    encrypt(os.urandom(2 * SEG))  # two segments still fit
    with pytest.raises(OverflowError, match="segment counter exhausted"):
        encrypt(os.urandom(2 * SEG + 1))
    with pytest.raises(AttachmentIntegrityError, match="too many segments"):
        decrypt(blob)


def test_segment_counter_limit_is_the_uint32_range():
    assert crypto.MAX_SEGMENTS == 2**32
    enc = StreamEncryptor(attachment_id=AID, kek=KEK, key_id=KEY_ID)
    enc._counter = 2**32 - 1
    enc.finish()  # the last representable counter is usable
    enc = StreamEncryptor(attachment_id=AID, kek=KEK, key_id=KEY_ID)
    enc._counter = 2**32
    with pytest.raises(OverflowError):
        enc.finish()


# --- rotation -------------------------------------------------------------------------


def test_rewrap_keeps_the_body_and_moves_the_key():
    new_header = rewrap(
        SAMPLE_BLOB[:H], old_kek=KEK, new_kek=OTHER_KEK, new_key_id="us-2027-01"
    )
    assert len(new_header) == H  # fixed size: replace the first 89 bytes only
    rotated = new_header + SAMPLE_BLOB[H:]
    old, new = Header.parse(SAMPLE_BLOB[:H]), Header.parse(new_header)
    assert (new.key_id, new.nonce_prefix, new.segment_size) == (
        "us-2027-01",
        old.nonce_prefix,
        old.segment_size,
    )
    assert new.wrapped_key != old.wrapped_key
    assert decrypt(rotated, keyring={"us-2027-01": OTHER_KEK}) == SAMPLE
    with pytest.raises(AttachmentIntegrityError, match="does not unwrap"):
        decrypt(rotated, keyring={"us-2027-01": KEK})
    assert decrypt(SAMPLE_BLOB) == SAMPLE  # the old object stays valid until replaced


def test_rewrap_with_wrong_old_kek_fails():
    with pytest.raises(AttachmentIntegrityError, match="does not unwrap"):
        rewrap(SAMPLE_BLOB[:H], old_kek=OTHER_KEK, new_kek=KEK, new_key_id="x")
    with pytest.raises(AttachmentIntegrityError, match="header is 90 bytes"):
        rewrap(SAMPLE_BLOB[: H + 1], old_kek=KEK, new_kek=OTHER_KEK, new_key_id="x")


# --- no key material in errors --------------------------------------------------------


def _forms(key):
    return {
        key.hex(),
        key.hex().upper(),
        repr(key)[2:-1],
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode(),
        key.decode("latin-1"),
    }


def test_errors_never_contain_key_material():
    dek = aes_key_unwrap(KEK, Header.parse(SAMPLE_BLOB[:H]).wrapped_key)
    failures = [
        lambda: decrypt(SAMPLE_BLOB, keyring={KEY_ID: OTHER_KEK}),
        lambda: decrypt(flip(50)(SAMPLE_BLOB)),
        lambda: decrypt(flip(H + 5)(SAMPLE_BLOB)),
        lambda: decrypt(SAMPLE_BLOB, aid=str(uuid.uuid4())),
        lambda: rewrap(SAMPLE_BLOB[:H], old_kek=OTHER_KEK, new_kek=KEK, new_key_id="x"),
        lambda: decrypt(SAMPLE_BLOB, keyring={KEY_ID: KEK[:31]}),
        lambda: StreamEncryptor(attachment_id=AID, kek=KEK + b"!", key_id=KEY_ID),
    ]
    for fail in failures:
        with pytest.raises((AttachmentIntegrityError, ValueError)) as info:
            fail()
        exc = info.value
        text = str(exc) + repr(exc) + "".join(traceback.format_exception(exc))
        for key in (KEK, OTHER_KEK, dek):
            for form in _forms(key):
                assert form not in text
