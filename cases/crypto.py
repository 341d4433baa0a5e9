"""Streaming envelope encryption of attachments (format WGXA v1, docs/encryption.md)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import struct
import uuid
from collections.abc import Callable, Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

MAGIC = b"WGXA"
VERSION = 1
KEY_SIZE = 32  # AES-256 for both the KEK and the per-file data key
KEY_ID_FIELD_SIZE = 32  # fixed width, so rotation never changes the header size
WRAPPED_KEY_SIZE = 40  # RFC 3394 output for a 32-byte data key
NONCE_PREFIX_SIZE = 7
TAG_SIZE = 16
DEFAULT_SEGMENT_SIZE = 64 * 1024
MIN_SEGMENT_SIZE = 1024
# Bounds what a hostile header can make a reader allocate.
MAX_SEGMENT_SIZE = 16 * 1024 * 1024
MAX_SEGMENTS = 2**32  # the segment counter is a uint32

# magic, version, key id length, key id (NUL-padded), wrapped key, nonce prefix,
# segment size
_HEADER = struct.Struct(">4sBB32s40s7sI")
HEADER_SIZE = _HEADER.size  # 89
# nonce = prefix || uint32 counter || last-segment flag
_NONCE = struct.Struct(">7sIB")

Reader = Callable[[int], bytes]


class AttachmentIntegrityError(Exception):
    """An attachment failed to parse, unwrap or authenticate (never quotes keys)."""


@dataclasses.dataclass(frozen=True)
class Header:
    """The fixed-size (89-byte) header in front of every encrypted attachment."""

    key_id: str
    wrapped_key: bytes
    nonce_prefix: bytes
    segment_size: int = DEFAULT_SEGMENT_SIZE
    version: int = VERSION

    def __post_init__(self) -> None:
        if self.version != VERSION:
            raise ValueError(f"unsupported format version {self.version}")
        _check_key_id(self.key_id)
        if (
            not isinstance(self.wrapped_key, bytes)
            or len(self.wrapped_key) != WRAPPED_KEY_SIZE
        ):
            raise ValueError(f"wrapped key must be {WRAPPED_KEY_SIZE} bytes")
        if (
            not isinstance(self.nonce_prefix, bytes)
            or len(self.nonce_prefix) != NONCE_PREFIX_SIZE
        ):
            raise ValueError(f"nonce prefix must be {NONCE_PREFIX_SIZE} bytes")
        if not MIN_SEGMENT_SIZE <= self.segment_size <= MAX_SEGMENT_SIZE:
            raise ValueError(
                f"segment size {self.segment_size} is outside "
                f"{MIN_SEGMENT_SIZE}..{MAX_SEGMENT_SIZE}"
            )

    def to_bytes(self) -> bytes:
        """Serialise; struct pads the key id field with NULs."""
        kid = self.key_id.encode("utf-8")
        return _HEADER.pack(
            MAGIC,
            self.version,
            len(kid),
            kid,
            self.wrapped_key,
            self.nonce_prefix,
            self.segment_size,
        )

    @classmethod
    def parse(cls, data: bytes) -> Header:
        """Parse exactly HEADER_SIZE bytes; reject what to_bytes() would not produce."""
        if len(data) != HEADER_SIZE:
            raise AttachmentIntegrityError(
                f"header is {len(data)} bytes, expected {HEADER_SIZE} (truncated?)"
            )
        magic, version, kid_len, kid_field, wrapped, prefix, segment_size = (
            _HEADER.unpack(data)
        )
        if magic != MAGIC:
            raise AttachmentIntegrityError("not a WGXA attachment (bad magic)")
        if version != VERSION:
            raise AttachmentIntegrityError(f"unsupported format version {version}")
        # Non-zero padding would let two byte strings carry one header: reject it.
        if not 1 <= kid_len <= KEY_ID_FIELD_SIZE or any(kid_field[kid_len:]):
            raise AttachmentIntegrityError("malformed key id field")
        try:
            key_id = kid_field[:kid_len].decode("utf-8")
            return cls(
                key_id=key_id,
                wrapped_key=wrapped,
                nonce_prefix=prefix,
                segment_size=segment_size,
            )
        except ValueError as exc:  # includes UnicodeDecodeError
            raise AttachmentIntegrityError(f"malformed header: {exc}") from None


class StreamEncryptor:
    """Encrypt one attachment: write header_bytes, then each update(), then finish()."""

    def __init__(
        self,
        *,
        attachment_id: str | uuid.UUID,
        kek: bytes,
        key_id: str,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
    ) -> None:
        _check_kek(kek)
        uid = _attachment_uuid(attachment_id)
        # Fresh per file: a key sees only one counter sequence, so no nonce repeats.
        dek = AESGCM.generate_key(bit_length=256)
        self.header = Header(
            key_id=key_id,
            wrapped_key=aes_key_wrap(bytes(kek), dek),
            nonce_prefix=os.urandom(NONCE_PREFIX_SIZE),
            segment_size=segment_size,
        )
        self.header_bytes = self.header.to_bytes()
        self._aead: AESGCM | None = AESGCM(dek)
        self._ad = _segment_ad(self.header, uid)
        self._buf = bytearray()
        self._counter = 0
        self._sha = hashlib.sha256()
        self._size = 0
        self._digest: str | None = None

    def update(self, chunk: bytes | bytearray | memoryview) -> bytes:
        """Absorb a chunk of any size; return the segments now complete (maybe b"")."""
        if self._aead is None:
            raise RuntimeError("update() after finish()")
        view = memoryview(chunk).cast("B")
        self._sha.update(view)
        self._size += view.nbytes
        out = []
        seg = self.header.segment_size
        while view:
            if len(self._buf) == seg:
                # More data follows, so the held-back segment is not the last.
                out.append(self._seal(last=False))
            take = seg - len(self._buf)
            self._buf += view[:take]
            view = view[take:]
        return b"".join(out)

    def finish(self) -> bytes:
        """Seal the buffered rest (possibly empty) as the final segment."""
        if self._aead is None:
            raise RuntimeError("finish() called twice")
        ct = self._seal(last=True)
        self._aead = None  # drop the data key as soon as it is no longer needed
        self._digest = self._sha.hexdigest()
        return ct

    @property
    def plaintext_sha256(self) -> str:
        """Hex SHA-256 of all plaintext; only after finish()."""
        if self._digest is None:
            raise RuntimeError("plaintext_sha256 is known only after finish()")
        return self._digest

    @property
    def plaintext_size(self) -> int:
        """Plaintext bytes absorbed so far."""
        return self._size

    def _seal(self, *, last: bool) -> bytes:
        if self._counter >= MAX_SEGMENTS:
            raise OverflowError("attachment too large: segment counter exhausted")
        nonce = _NONCE.pack(self.header.nonce_prefix, self._counter, last)
        ct = self._aead.encrypt(nonce, self._buf, self._ad)
        self._counter += 1
        self._buf.clear()
        return ct


def decrypt_stream(
    source: BinaryIO | Reader,
    *,
    attachment_id: str | uuid.UUID,
    kek_lookup: Callable[[str], bytes],
) -> Iterator[bytes]:
    """Check header and key now; return an iterator of authenticated segments."""
    # Not a generator itself: a bad header or key raises here, before any response
    # has started.
    read = _reader(source)
    header = Header.parse(_read_exact(read, HEADER_SIZE))
    ad = _segment_ad(header, _attachment_uuid(attachment_id))
    try:
        kek = kek_lookup(header.key_id)
    except KeyError:
        raise AttachmentIntegrityError(f"unknown key id {header.key_id!r}") from None
    return _open_segments(read, AESGCM(_unwrap(header, kek)), ad, header)


def rewrap(
    header_bytes: bytes, *, old_kek: bytes, new_kek: bytes, new_key_id: str
) -> bytes:
    """Return the header re-wrapped under new_kek: same size, body valid unchanged."""
    header = Header.parse(header_bytes)
    dek = _unwrap(header, old_kek)
    _check_kek(new_kek, "new_kek")
    new = dataclasses.replace(
        header, key_id=new_key_id, wrapped_key=aes_key_wrap(bytes(new_kek), dek)
    )
    return new.to_bytes()


def _open_segments(
    read: Reader, aead: AESGCM, ad: bytes, header: Header
) -> Iterator[bytes]:
    full = header.segment_size + TAG_SIZE
    counter = 0
    current = _read_exact(read, full)
    while True:
        if not current:
            raise AttachmentIntegrityError("stream ends before the final segment")
        # Only a short segment, or the lack of a next one, marks this segment final;
        # so trailing bytes land in a segment and fail its tag like any other edit.
        nxt = _read_exact(read, full) if len(current) == full else b""
        last = not nxt
        if counter >= MAX_SEGMENTS:
            raise AttachmentIntegrityError("too many segments")
        try:
            plaintext = aead.decrypt(
                _NONCE.pack(header.nonce_prefix, counter, last), current, ad
            )
        except InvalidTag:
            raise AttachmentIntegrityError(
                f"segment {counter} failed authentication "
                "(tampered, truncated, reordered, or from another file or attachment)"
            ) from None
        if last:
            # The encryptor only emits an empty final segment for an empty file.
            if not plaintext and counter:
                raise AttachmentIntegrityError("empty final segment after data")
            yield plaintext
            return
        yield plaintext
        current, counter = nxt, counter + 1


def _segment_ad(header: Header, uid: uuid.UUID) -> bytes:
    """AD: header fields rotation never changes, plus the attachment id."""
    fixed = (
        MAGIC
        + bytes([header.version])
        + header.nonce_prefix
        + header.segment_size.to_bytes(4, "big")
    )
    return hashlib.sha256(fixed + uid.bytes).digest()


def _unwrap(header: Header, kek: bytes) -> bytes:
    _check_kek(kek)
    try:
        return aes_key_unwrap(bytes(kek), header.wrapped_key)
    except InvalidUnwrap:
        raise AttachmentIntegrityError(
            f"data key does not unwrap under key id {header.key_id!r} "
            "(wrong key or tampered header)"
        ) from None


def _attachment_uuid(attachment_id: str | uuid.UUID) -> uuid.UUID:
    """Canonical UUID, so every spelling of one attachment id binds the same AD."""
    if isinstance(attachment_id, uuid.UUID):
        return attachment_id
    if not isinstance(attachment_id, str):
        raise TypeError("attachment_id must be a UUID or its string form")
    return uuid.UUID(attachment_id)


def _check_kek(kek: bytes, name: str = "kek") -> None:
    # Deliberately states only the length: the value must never reach a message or log.
    if not isinstance(kek, (bytes, bytearray)) or len(kek) != KEY_SIZE:
        raise ValueError(f"{name} must be {KEY_SIZE} bytes")


def _check_key_id(key_id: str) -> None:
    if not isinstance(key_id, str) or not key_id.isprintable():
        raise ValueError("key id must be a printable string")
    if not 1 <= len(key_id.encode("utf-8")) <= KEY_ID_FIELD_SIZE:
        raise ValueError(f"key id must be 1..{KEY_ID_FIELD_SIZE} bytes of UTF-8")


def _reader(source: BinaryIO | Reader) -> Reader:
    read = getattr(source, "read", source)
    if not callable(read):
        raise TypeError("source must be a binary file or a read(n) callable")
    return read


def _read_exact(read: Reader, n: int) -> bytes:
    """Read n bytes, fewer only at end of stream (reads may legally return short)."""
    data = read(n)
    if len(data) == n or not data:
        return data
    parts, got = [data], len(data)
    while got < n:
        more = read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
