"""Normalise subject identifiers and compute their keyed blind index for hit/no-hit lookup.

Pure Python (no Django) so the rules can be tested alone; docs/identifiers.md states them.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import hmac
import re
import unicodedata

import phonenumbers


class IdentifierType(enum.StrEnum):
    """Kinds of identifier; the values are stored and sent to partners, so never rename them."""

    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    PHONE = "phone"
    EMAIL = "email"
    VEHICLE_PLATE = "vehicle_plate"
    BANK_ACCOUNT = "bank_account"
    NAME_DOB = "name_dob"


IDENTIFIER_TYPES = [kind.value for kind in IdentifierType]

# Part of every index: changing any rule in this module changes normalised values, so bump
# the version and re-normalise and re-index every stored identifier, or old ones stop matching.
INDEX_DOMAIN = b"wgx-lookup-v1"
MIN_KEY_BYTES = 32
MAX_INPUT_CHARS = 256  # bounds the work done on hostile input before any parsing
MAX_CODE_CHARS = 64
MAX_EMAIL_CHARS = 254  # RFC 5321 limit on an address

_ASCII_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Written or left out at random across US, Mexican and Guatemalan records.
_NAME_PARTICLES = frozenset({"DE", "DEL", "LA", "LAS", "LOS", "Y"})
_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc`")
_NAME_AND_DATE = re.compile(r"(.*?)[\s|]*([0-9]{4}-[0-9]{2}-[0-9]{2})", re.DOTALL)
# Mexico dropped its mobile "1" (+52 1 ...) and the 01/044/045 dialling prefixes in 2019-2020;
# older records still carry them, and the same line must match either way.
_MX_LEGACY = re.compile(r"\+52(?:1|01|044|045)([0-9]{10})")


def gettext_noop(message: str) -> str:
    """Marks a problem for the translation catalogue (makemessages reads the name); the
    Django side translates it (`InvalidIdentifier.translated`). This module stays pure."""
    return message


_ = gettext_noop

class InvalidIdentifier(ValueError):
    """A value that cannot be normalised; the message names the type and never echoes the value.

    `problem` is the English text; `template` and `params` let the Django side say it in the
    member's language.
    """

    def __init__(self, identifier_type: str, template: str, **params) -> None:
        problem = template % params if params else template
        super().__init__(f"{identifier_type}: {problem}")
        self.identifier_type = str(identifier_type)
        self.template, self.params, self.problem = template, params, problem

    def translated(self, gettext) -> str:
        """The problem in the active language, through the given gettext."""
        text = gettext(self.template)
        return text % self.params if self.params else text


def normalise(identifier_type: str, value: str, *, default_region: str | None = None) -> str:
    """Return the canonical form that every way of writing the same identifier shares."""
    if identifier_type not in IDENTIFIER_TYPES:
        raise InvalidIdentifier("identifier_type", _("must be one of %(types)s"),
                                types=", ".join(IDENTIFIER_TYPES))
    kind = IdentifierType(identifier_type)
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, _("value must be text"))
    if len(value) > MAX_INPUT_CHARS:
        raise InvalidIdentifier(kind, _("longer than %(limit)s characters"),
                                limit=MAX_INPUT_CHARS)
    # NFKC folds full-width and other compatibility characters that phones and OCR produce.
    value = unicodedata.normalize("NFKC", value).strip()
    if not value:
        raise InvalidIdentifier(kind, _("empty"))
    if kind is IdentifierType.PHONE:
        return _phone(value, default_region)
    if kind is IdentifierType.EMAIL:
        return _email(value)
    if kind is IdentifierType.NAME_DOB:
        return _name_dob(value)
    return _code(kind, value)


def blind_index(key: bytes, identifier_type: str, normalised: str) -> str:
    """Return the hex HMAC-SHA256 lookup index of a normalised identifier under the lookup key."""
    if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
        raise ValueError(f"lookup key must be at least {MIN_KEY_BYTES} bytes")
    # An index of a raw value would silently never match; normalise() is idempotent, so check.
    if normalise(identifier_type, normalised) != normalised:
        raise ValueError(f"{identifier_type}: blind_index needs the output of normalise()")
    # The type is in the message so equal values of different types never share an index.
    message = b"\x00".join(
        [INDEX_DOMAIN, IdentifierType(identifier_type).value.encode(), normalised.encode()]
    )
    return hmac.new(bytes(key), message, hashlib.sha256).hexdigest()


def name_dob_value(full_name: str, date_of_birth: datetime.date) -> str:
    """Build the name_dob value that normalise() reads from a subject's stored fields."""
    if isinstance(date_of_birth, datetime.datetime):
        raise TypeError("date_of_birth must be a date, not a datetime")
    return f"{full_name.strip()} {date_of_birth.isoformat()}"


def _phone(value: str, default_region: str | None) -> str:
    """Return the E.164 form of a phone number written internationally or nationally."""
    region = default_region.upper() if default_region else None
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidIdentifier(IdentifierType.PHONE, _("unknown default region"))
    if region is None and not value.startswith(("+", "00")):
        raise InvalidIdentifier(IdentifierType.PHONE, _("no country code and no default region"))
    candidates = [value]
    if value.startswith("00"):
        # 00 is the usual international prefix (Mexico, Guatemala), though the US dials 011.
        candidates.append("+" + value[2:])
    for text in candidates:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        e164 = _MX_LEGACY.sub(r"+52\1", e164)
        # Possible, not valid: validity tables lag new number ranges, and a real number that
        # cannot be stored cannot be found. Local-only numbers lack an area code, so refuse them.
        reason = phonenumbers.is_possible_number_with_reason(phonenumbers.parse(e164))
        if reason == phonenumbers.ValidationResult.IS_POSSIBLE:
            return e164
    raise InvalidIdentifier(IdentifierType.PHONE, _("not a valid phone number"))


def _email(value: str) -> str:
    """Return the address lower-cased, as providers treat local parts case-insensitively."""
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise InvalidIdentifier(IdentifierType.EMAIL, _("contains spaces or control characters"))
    if value.count("@") != 1:
        raise InvalidIdentifier(IdentifierType.EMAIL, _("must contain exactly one @"))
    local, domain = value.split("@")
    if not local or not domain:
        raise InvalidIdentifier(IdentifierType.EMAIL, _("needs text before and after the @"))
    if len(value) > MAX_EMAIL_CHARS:
        raise InvalidIdentifier(IdentifierType.EMAIL, _("longer than %(limit)s characters"),
                                limit=MAX_EMAIL_CHARS)
    return value.lower()


def _code(kind: IdentifierType, value: str) -> str:
    """Return the upper-case letters and digits of a document, plate or account number."""
    kept = []
    for ch in _strip_marks(value.upper()):
        if ch in _ASCII_ALNUM:
            kept.append(ch)
        elif ch.isalnum():
            # Dropping a look-alike letter (Cyrillic "А") would turn a value into a different one.
            raise InvalidIdentifier(kind, _("contains letters or digits other than A-Z and 0-9"))
        # Anything else (space, dash, dot, slash) is a separator that records write inconsistently.
    code = "".join(kept)
    if not code:
        raise InvalidIdentifier(kind, _("has no letters or digits"))
    if len(code) > MAX_CODE_CHARS:
        raise InvalidIdentifier(kind, _("longer than %(limit)s letters and digits"),
                                limit=MAX_CODE_CHARS)
    return code


def _name_dob(value: str) -> str:
    """Return "SORTED NAME TOKENS|YYYY-MM-DD" from a name followed by an ISO date of birth."""
    kind = IdentifierType.NAME_DOB
    match = _NAME_AND_DATE.fullmatch(value)
    if match is None:
        # Only ISO dates: 01/03/1990 is 1 March in Mexico and Guatemala but 3 January in the US.
        raise InvalidIdentifier(kind, _("date of birth missing, end with YYYY-MM-DD"))
    try:
        born = datetime.date.fromisoformat(match[2])
    except ValueError:
        raise InvalidIdentifier(kind, _("date of birth is not a real date")) from None
    name = _strip_marks(match[1].upper()).translate(_APOSTROPHES)
    if any(ch.isdigit() for ch in name):
        raise InvalidIdentifier(kind, _("name contains digits"))
    # Commas, hyphens and dots only separate words: sorting makes "SURNAMES, GIVEN" order moot.
    words = "".join(ch if ch.isalpha() else " " for ch in name).split()
    tokens = sorted(word for word in words if word not in _NAME_PARTICLES)
    if not tokens:
        raise InvalidIdentifier(kind, _("name missing"))
    return " ".join(tokens) + "|" + born.isoformat()


def _strip_marks(text: str) -> str:
    """Return text without accents, so "PÉREZ" and "PEREZ" (and "MUÑOZ", "MUNOZ") agree."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
