"""The keyring: every secret key the service holds, in one JSON file named by WG_KEYRING.

Per country a list of key-encryption keys (KEKs) with one primary, which wrap the per-file
data keys of attachments; the Ed25519 key that signs audit checkpoints; the HMAC key of the
hit/no-hit lookup. Each key has an id so stored objects can name the key they need. The file
is read once per process and again whenever it changes (a rotation in another process), never
logged, and nothing here serialises a key into an answer. `get_keyring()` is the one way every
app reads it.

Layout (base64 for key bytes)::

    {"format": "wgx-keyring-1", "development": false,
     "countries": {"US": {"primary": "kek-US-…", "keys": {"kek-US-…": "…"}}, …},
     "audit_signing": {"primary": "audit-…", "keys": {"audit-…": "…"}},
     "lookup": {"primary": "lookup-…", "keys": {"lookup-…": "…"}}}
"""

import base64
import json
import os
import secrets
import sys
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

FORMAT = "wgx-keyring-1"
DEFAULT_COUNTRIES = ("US", "GT", "MX")


class KeyringError(Exception):
    """The keyring is missing, malformed, or lacks the key asked for (never holds key bytes)."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def _new_section(prefix: str, raw: bytes) -> dict:
    key_id = _new_id(prefix)
    return {"primary": key_id, "keys": {key_id: _b64(raw)}}


def _ed25519_raw() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def generate(countries=DEFAULT_COUNTRIES, *, development: bool = False) -> dict:
    """A fresh keyring: a 256-bit KEK per country, an audit signing key and a lookup key."""
    return {
        "format": FORMAT,
        "development": development,
        "countries": {cc: _new_section(f"kek-{cc}", os.urandom(32)) for cc in countries},
        "audit_signing": _new_section("audit", _ed25519_raw()),
        "lookup": _new_section("lookup", os.urandom(32)),
    }


def add_key(data: dict, section: str, country: str | None = None) -> str:
    """Add a new primary key to a section ('countries' needs the country); returns its id."""
    if section == "countries":
        cc = country.upper()
        prefix, raw = f"kek-{cc}", os.urandom(32)
        entry = data["countries"].setdefault(cc, {"primary": None, "keys": {}})
    elif section == "audit_signing":
        prefix, raw, entry = "audit", _ed25519_raw(), data["audit_signing"]
    elif section == "lookup":
        prefix, raw, entry = "lookup", os.urandom(32), data["lookup"]
    else:
        raise KeyringError(f"unknown keyring section {section!r}")
    key_id = _new_id(prefix)
    entry["keys"][key_id] = _b64(raw)
    entry["primary"] = key_id
    return key_id


def write(path, data: dict, *, overwrite: bool = False) -> None:
    """Write a keyring with mode 0600; refuses to replace an existing file unless told to."""
    path = Path(path)
    payload = json.dumps(data, indent=2, sort_keys=True).encode()
    if not overwrite:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        return
    # Replace atomically so a crash never leaves a half-written keyring.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read(path) -> dict:
    """The keyring file as a dict, validated; errors name the file, never its content."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise KeyringError(f"WG_KEYRING: no keyring file at {path}") from None
    except (OSError, ValueError):
        raise KeyringError(f"WG_KEYRING: {path} is not a readable keyring") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise KeyringError(f"WG_KEYRING: {path} is not a {FORMAT} keyring")
    for section in ("countries", "audit_signing", "lookup"):
        if section not in data:
            raise KeyringError(f"WG_KEYRING: {path} has no {section!r} section")
    return data


def ensure_development_keyring(path) -> None:
    """Generate the development keyring on first run (var/ is git-ignored)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write(path, generate(development=True))
        except FileExistsError:  # another process generated it first
            return
        print(f"WARNING: generated a development keyring at {path}", file=sys.stderr)


def is_development_keyring(path) -> bool:
    """True when the file is marked as a development keyring (production refuses it)."""
    try:
        return bool(read(path).get("development"))
    except KeyringError:
        return False


class Keyring:
    """Read access to the keys; repr and str never show key material."""

    def __init__(self, data: dict):
        self._data = data

    def __repr__(self):
        return f"<Keyring {len(self._data['countries'])} countries>"

    __str__ = __repr__

    def _section(self, name: str, country: str | None = None) -> dict:
        if name == "countries":
            try:
                return self._data["countries"][country.upper()]
            except KeyError:
                raise KeyringError(
                    f"no key-encryption key for country {country}; "
                    f"run `manage.py rotate_keys --country {country}`"
                ) from None
        return self._data[name]

    @staticmethod
    def _key(section: dict, key_id: str) -> bytes:
        try:
            return base64.b64decode(section["keys"][key_id])
        except KeyError:
            raise KeyringError(f"key {key_id} is not in the keyring") from None

    def primary_kek(self, country: str) -> tuple[str, bytes]:
        """(key id, key) of the country's primary key-encryption key."""
        section = self._section("countries", country)
        return section["primary"], self._key(section, section["primary"])

    def kek(self, key_id: str) -> bytes:
        """Any country's key-encryption key by id (old keys stay until retired)."""
        for section in self._data["countries"].values():
            if key_id in section["keys"]:
                return self._key(section, key_id)
        raise KeyringError(f"key {key_id} is not in the keyring")

    def audit_signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        section = self._section("audit_signing")
        raw = self._key(section, section["primary"])
        return section["primary"], Ed25519PrivateKey.from_private_bytes(raw)

    def audit_public_keys(self) -> dict[str, bytes]:
        """Every audit signing key's public half (raw 32 bytes), by id."""
        section = self._section("audit_signing")
        return {
            key_id: Ed25519PrivateKey.from_private_bytes(self._key(section, key_id))
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            for key_id in section["keys"]
        }

    def primary_lookup_key(self) -> tuple[str, bytes]:
        section = self._section("lookup")
        return section["primary"], self._key(section, section["primary"])

    def lookup_key(self, key_id: str) -> bytes:
        return self._key(self._section("lookup"), key_id)

    def lookup_key_ids(self) -> list[str]:
        """Every lookup key id (two while a rotation re-indexes identifiers)."""
        return sorted(self._section("lookup")["keys"])


_lock = threading.Lock()
_current: list = [None]  # [(file stamp, Keyring)]: replaced whole, so readers need no lock


def _stamp(path) -> tuple:
    try:
        st = os.stat(path)
    except OSError:
        return (str(path), None, None, None)
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


def get_keyring() -> Keyring:
    """The keyring from settings.WG_KEYRING, read again whenever the file changed.

    A rotation (`rotate_keys`, `rotate_lookup_key`) replaces the file atomically in another
    process; every process then sees the new keys on its next call, without a restart. The
    check is one stat() of the file (about a microsecond).
    """
    from django.conf import settings

    stamp = _stamp(settings.WG_KEYRING)
    current = _current[0]
    if current is not None and current[0] == stamp:
        return current[1]
    with _lock:
        current = _current[0]
        if current is None or current[0] != stamp:
            current = _current[0] = (stamp, Keyring(read(settings.WG_KEYRING)))
        return current[1]


def reload() -> Keyring:
    """Read the keyring file again now (right after this process rewrote it)."""
    _current[0] = None
    return get_keyring()
