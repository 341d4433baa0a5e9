"""C2SP signed notes, tlog checkpoints and cosignatures (Ed25519): pure, no Django.

- signed-note: a text body ending in a newline, a blank line, then signature lines
  "— <key name> base64(4-byte key id || signature)". The Ed25519 key id is
  SHA-256(name || "\\n" || 0x01 || public key)[:4]; the signature covers the body.
- tlog-checkpoint: the body is "<origin>\\n<tree size>\\n<base64 root hash>\\n".
- tlog-cosignature (cosignature/v1): key id SHA-256(name || "\\n" || 0x04 || key)[:4]; the
  signature is 8-byte big-endian timestamp || Ed25519 signature over
  "cosignature/v1\\ntime <t>\\n" + the checkpoint body.
- verifier keys ("vkeys"): "<name>+<hex key id>+base64(type byte || public key)".

The witness server and the offline verifier import this module alone (and `cryptography`).
"""

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIG_ED25519 = 0x01  # signed-note Ed25519 signatures (the log's key)
SIG_COSIGNATURE_V1 = 0x04  # tlog-cosignature Ed25519 (a witness's key)
DASH = "\u2014"  # EM DASH starts every signature line


class NoteError(ValueError):
    """A note, checkpoint, key or signature that is malformed or does not verify."""


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte key id of a named Ed25519 key for a signature type."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def vkey(name: str, sig_type: int, public_key: bytes) -> str:
    """A verifier key string naming the key, its id, its type and its public half."""
    _check_name(name)
    encoded = base64.b64encode(bytes([sig_type]) + public_key).decode()
    return f"{name}+{key_id(name, sig_type, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier key."""

    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)


def parse_vkey(text: str) -> Verifier:
    """Parse and check a vkey; NoteError names what is wrong."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        wanted = bytes.fromhex(hex_id)
    except (ValueError, binascii.Error):
        raise NoteError("a verifier key is <name>+<hex key id>+<base64 key>") from None
    _check_name(name)
    if len(raw) != 33 or raw[0] not in (SIG_ED25519, SIG_COSIGNATURE_V1):
        raise NoteError("the verifier key is not an Ed25519 or cosignature/v1 key")
    verifier = Verifier(name, raw[0], raw[1:])
    if verifier.key_id != wanted:
        raise NoteError("the verifier key's id does not match its name and key")
    return verifier


# --- Checkpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint body."""

    origin: str
    size: int
    root: bytes
    body: str  # exactly as signed, with its final newline (and any extension lines)


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    if not origin or "\n" in origin:
        raise NoteError("the origin must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0]:
        raise NoteError("a checkpoint is an origin, a size and a root hash, one per line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("the checkpoint's size is not a decimal without leading zeroes")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise NoteError("the checkpoint's root hash is not base64") from None
    if len(root) != 32:
        raise NoteError("the checkpoint's root hash is not 32 bytes")
    return Checkpoint(origin, int(size_text), root, body)


# --- Signed notes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes  # after the key id: Ed25519 (64) or timestamp + Ed25519 (72)

    @property
    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{DASH} {self.name} {encoded}\n"


def _check_body(body: str) -> None:
    if not body.endswith("\n"):
        raise NoteError("a note's text must end with a newline")
    if "\n\n" in body or any(c < " " and c != "\n" for c in body):
        raise NoteError("a note's text has no blank line and no control character")


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The note text with one Ed25519 signature line by the named key."""
    _check_body(body)
    kid = key_id(name, SIG_ED25519, public_bytes(private_key))
    signature = Signature(name, kid, private_key.sign(body.encode()))
    return f"{body}\n{signature.line}"


def parse_signature_line(line: str) -> Signature:
    if not line.startswith(DASH + " "):
        raise NoteError("a signature line starts with an em dash and a space")
    try:
        name, encoded = line[2:].rstrip("\n").split(" ")
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("a signature line is '— <name> <base64>'") from None
    if len(raw) < 5:
        raise NoteError("a signature is too short")
    return Signature(name, raw[:4], raw[4:])


def split_note(text: str) -> tuple[str, list[Signature]]:
    """(body, signatures) of a signed note; NoteError when it is not one."""
    if not text.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    body, sep, sigs = text.rpartition("\n\n")
    if not sep:
        raise NoteError("a signed note has a blank line before its signatures")
    body += "\n"
    _check_body(body)
    signatures = [parse_signature_line(line) for line in sigs.split("\n")[:-1]]
    if not signatures:
        raise NoteError("the note carries no signature")
    return body, signatures


def note_signed_by(body: str, signatures: list[Signature], verifier: Verifier) -> bool:
    """True when one of the signatures is the verifier's Ed25519 note signature on body."""
    key = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    for sig in signatures:
        if sig.name == verifier.name and sig.key_id == verifier.key_id:
            try:
                key.verify(sig.signature, body.encode())
            except InvalidSignature:
                continue
            return True
    return False


# --- Cosignatures ------------------------------------------------------------------------------


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(body: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> Signature:
    """A cosignature/v1 on a checkpoint body at a POSIX time."""
    if not 0 <= timestamp < 2**63:
        raise NoteError("cosignature timestamps are 0 .. 2^63-1")
    kid = key_id(name, SIG_COSIGNATURE_V1, public_bytes(private_key))
    signed = private_key.sign(cosigned_message(body, timestamp))
    return Signature(name, kid, struct.pack(">Q", timestamp) + signed)


def verify_cosignature(body: str, signature: Signature, verifier: Verifier) -> int:
    """The cosignature's timestamp when it is the verifier's valid cosignature on body."""
    if signature.name != verifier.name or signature.key_id != verifier.key_id:
        raise NoteError(f"the signature is not by {verifier.name}'s key")
    if len(signature.signature) != 72:
        raise NoteError("a cosignature/v1 is a timestamp and an Ed25519 signature")
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    try:
        Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(
            signature.signature[8:], cosigned_message(body, timestamp)
        )
    except InvalidSignature:
        raise NoteError(f"{verifier.name}'s cosignature does not verify") from None
    return timestamp
