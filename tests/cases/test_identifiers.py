"""Identifier normalisation and blind index: every way of writing one identifier must match."""

import datetime
import hashlib
import hmac
import itertools

import pytest

from cases.identifiers import (
    IDENTIFIER_TYPES,
    IdentifierType,
    InvalidIdentifier,
    blind_index,
    name_dob_value,
    normalise,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
JOSE = "GARCIA JOSE LUIS PEREZ|1990-03-01"

# (type, default_region, as written, expected normal form)
VARIANTS = [
    ("phone", None, "+52 55 1234 5678", "+525512345678"),
    ("phone", None, "+52-55-1234-5678", "+525512345678"),
    ("phone", None, "+52.55.1234.5678", "+525512345678"),
    ("phone", None, "0052 55 1234 5678", "+525512345678"),
    ("phone", "MX", "0052 (55) 1234-5678", "+525512345678"),
    ("phone", "US", "0052 55 1234 5678", "+525512345678"),
    ("phone", "US", "011 52 55 1234 5678", "+525512345678"),
    ("phone", "MX", "55 1234 5678", "+525512345678"),
    ("phone", "mx", "(55) 1234-5678", "+525512345678"),
    ("phone", "GT", "+52 55 1234 5678", "+525512345678"),
    ("phone", None, "+52 1 55 1234 5678", "+525512345678"),
    ("phone", "MX", "044 55 1234 5678", "+525512345678"),
    ("phone", None, "＋５２ ５５ １２３４ ５６７８", "+525512345678"),
    ("phone", None, "+1 (202) 555-0143", "+12025550143"),
    ("phone", "US", "(202) 555-0143", "+12025550143"),
    ("phone", "US", "202.555.0143", "+12025550143"),
    ("phone", "US", "1-202-555-0143", "+12025550143"),
    ("phone", "MX", "001 202 555 0143", "+12025550143"),
    ("phone", None, "+502 2345 6789", "+50223456789"),
    ("phone", "GT", "2345-6789", "+50223456789"),
    ("phone", None, "00502 2345-6789", "+50223456789"),
    ("passport", None, "G12345678", "G12345678"),
    ("passport", None, "g1234 5678", "G12345678"),
    ("passport", None, " G-1234-5678 ", "G12345678"),
    ("passport", None, "G.1234.5678", "G12345678"),
    ("passport", None, "Ｇ１２３４５６７８", "G12345678"),
    ("national_id", None, "pegj900301hdfrrs09", "PEGJ900301HDFRRS09"),
    ("national_id", None, "PEGJ-900301-HDFRRS-09", "PEGJ900301HDFRRS09"),
    ("national_id", None, "2345 67890 0101", "2345678900101"),
    ("national_id", None, "2345-67890-0101", "2345678900101"),
    ("vehicle_plate", None, "abc-1234", "ABC1234"),
    ("vehicle_plate", None, "ABC 12 34", "ABC1234"),
    ("vehicle_plate", None, "abc.1234", "ABC1234"),
    ("vehicle_plate", "GT", "p-123abc", "P123ABC"),
    ("bank_account", None, "GT82 TRAJ 0102 0000 0012 1002 9690", "GT82TRAJ01020000001210029690"),
    ("bank_account", None, "gt82traj01020000001210029690", "GT82TRAJ01020000001210029690"),
    ("bank_account", None, "0021 8070 0123 4567 89", "002180700123456789"),
    ("bank_account", None, "002-180-70012345678-9", "002180700123456789"),
    ("email", None, "ana.lopez@example.mx", "ana.lopez@example.mx"),
    ("email", None, "  Ana.Lopez@Example.MX ", "ana.lopez@example.mx"),
    ("email", None, "ANA.LOPEZ@EXAMPLE.MX", "ana.lopez@example.mx"),
    ("name_dob", None, "José Luis Pérez García 1990-03-01", JOSE),
    ("name_dob", None, "PEREZ GARCIA, Jose Luis 1990-03-01", JOSE),
    ("name_dob", None, "Jose Luis Garcia Perez 1990-03-01", JOSE),
    ("name_dob", None, "Pérez-García, José Luis|1990-03-01", JOSE),
    ("name_dob", None, "  josé   LUIS\tpérez garcía   1990-03-01 ", JOSE),
    ("name_dob", None, "María de los Ángeles 1985-12-24", "ANGELES MARIA|1985-12-24"),
    ("name_dob", None, "Maria Angeles 1985-12-24", "ANGELES MARIA|1985-12-24"),
    ("name_dob", None, "DE LOS ANGELES, MARIA 1985-12-24", "ANGELES MARIA|1985-12-24"),
    ("name_dob", None, "Patrick O'Brien 1970-01-31", "OBRIEN PATRICK|1970-01-31"),
    ("name_dob", None, "O’BRIEN, Patrick 1970-01-31", "OBRIEN PATRICK|1970-01-31"),
    ("name_dob", None, "Juan Muñoz 2001-07-15", "JUAN MUNOZ|2001-07-15"),
    ("name_dob", None, "MUNOZ, JUAN 2001-07-15", "JUAN MUNOZ|2001-07-15"),
]


def _id(row):
    return f"{row[0]}:{row[2]}"


@pytest.mark.parametrize(("kind", "region", "raw", "expected"), VARIANTS, ids=map(_id, VARIANTS))
def test_variants_normalise_to_one_form(kind, region, raw, expected):
    assert normalise(kind, raw, default_region=region) == expected


@pytest.mark.parametrize("expected", sorted({(row[0], row[3]) for row in VARIANTS}))
def test_normal_form_is_a_fixed_point(expected):
    kind, value = expected
    assert normalise(kind, value) == value


def test_spec_example_names_match_through_the_index():
    a = normalise("name_dob", "José Luis Pérez García 1990-03-01")
    b = normalise("name_dob", "PEREZ GARCIA, Jose Luis 1990-03-01")
    assert blind_index(KEY, "name_dob", a) == blind_index(KEY, "name_dob", b)


# (type, default_region, a, b): close but different identifiers that must never match.
NEAR_MISSES = [
    ("phone", None, "+52 55 1234 5678", "+52 55 1234 5679"),
    ("phone", None, "+1 202 555 0143", "+52 202 555 0143"),
    ("phone", "GT", "2345 6789", "+503 2345 6789"),
    ("passport", None, "G12345678", "G12345679"),
    ("passport", None, "G12345678", "G1234567"),
    ("national_id", None, "PEGJ900301HDFRRS09", "PEGJ900301MDFRRS09"),
    ("vehicle_plate", None, "ABC-1234", "ABC-1243"),
    ("vehicle_plate", None, "ABC-1234", "ABD-1234"),
    ("bank_account", None, "002180700123456789", "002180700123456788"),
    ("email", None, "ana.lopez@example.mx", "analopez@example.mx"),
    ("email", None, "ana.lopez@example.mx", "ana.lopez@example.com"),
    ("name_dob", None, "José Luis Pérez García 1990-03-01", "José Luis Pérez García 1990-03-02"),
    ("name_dob", None, "José Luis Pérez García 1990-03-01", "José Luis Pérez García 1990-01-03"),
    ("name_dob", None, "José Luis Pérez García 1990-03-01", "José Pérez García 1990-03-01"),
    ("name_dob", None, "José Luis Pérez García 1990-03-01", "José Luis Pérez Garza 1990-03-01"),
]


@pytest.mark.parametrize(("kind", "region", "a", "b"), NEAR_MISSES)
def test_near_misses_do_not_match(kind, region, a, b):
    norm_a = normalise(kind, a, default_region=region)
    norm_b = normalise(kind, b, default_region=region)
    assert norm_a != norm_b
    assert blind_index(KEY, kind, norm_a) != blind_index(KEY, kind, norm_b)


CODE_TYPES = ["passport", "national_id", "vehicle_plate", "bank_account"]


@pytest.mark.parametrize(("kind_a", "kind_b"), list(itertools.combinations(CODE_TYPES, 2)))
def test_same_value_of_different_types_does_not_match(kind_a, kind_b):
    value = normalise(kind_a, "A1234567")
    assert value == normalise(kind_b, "A1234567")
    assert blind_index(KEY, kind_a, value) != blind_index(KEY, kind_b, value)


LONG = "7" * 5000

# (type, default_region, as written, words the message must contain)
INVALID = [
    ("phone", None, "55 1234 5678", "no country code"),
    ("phone", None, "+52 55 1234", "not a valid phone number"),
    ("phone", None, "+52 55 1234 5678 9012 3456", "not a valid phone number"),
    ("phone", "US", "555-0143", "not a valid phone number"),
    ("phone", "MX", "call me", "not a valid phone number"),
    ("phone", "ZZ", "55 1234 5678", "unknown default region"),
    ("phone", None, LONG, "longer than"),
    ("passport", None, "---", "no letters or digits"),
    ("passport", None, "X" * 65, "longer than"),
    ("passport", None, "АВ123456", "other than A-Z"),
    ("national_id", None, "", "empty"),
    ("vehicle_plate", None, "   ", "empty"),
    ("bank_account", None, "€ / €", "no letters or digits"),
    ("email", None, "ana.lopez.example.mx", "exactly one @"),
    ("email", None, "ana@lopez@example.mx", "exactly one @"),
    ("email", None, "@example.mx", "before and after"),
    ("email", None, "ana.lopez@", "before and after"),
    ("email", None, "ana lopez@example.mx", "spaces"),
    ("email", None, "a" * 250 + "@example.mx", "longer than"),
    ("name_dob", None, "José Luis Pérez García", "date of birth"),
    ("name_dob", None, "José Luis Pérez García 01/03/1990", "date of birth"),
    ("name_dob", None, "José Luis Pérez García 1990-02-30", "date of birth"),
    ("name_dob", None, "1990-03-01", "name missing"),
    ("name_dob", None, "de la 1990-03-01", "name missing"),
    ("name_dob", None, "José 2 Pérez 1990-03-01", "name contains digits"),
]


@pytest.mark.parametrize(("kind", "region", "raw", "problem"), INVALID)
def test_invalid_values_are_refused_naming_type_and_problem(kind, region, raw, problem):
    with pytest.raises(InvalidIdentifier) as caught:
        normalise(kind, raw, default_region=region)
    message = str(caught.value)
    assert message.startswith(f"{kind}: ")
    assert problem in message
    assert caught.value.identifier_type == kind
    assert len(message) < 100
    if len(raw.strip()) > 3:
        assert raw.strip() not in message


def test_invalid_identifier_is_a_value_error():
    with pytest.raises(ValueError):
        normalise("email", "nobody")


def test_unknown_type_and_non_text_value_are_refused():
    with pytest.raises(InvalidIdentifier, match="identifier_type: must be one of passport"):
        normalise("ssn", "123-45-6789")
    with pytest.raises(InvalidIdentifier, match="passport: value must be text"):
        normalise("passport", None)


def test_types_are_the_stored_strings():
    assert IDENTIFIER_TYPES == [
        "passport", "national_id", "phone", "email", "vehicle_plate", "bank_account", "name_dob",
    ]
    assert IdentifierType.NAME_DOB == "name_dob"
    assert normalise(IdentifierType.PHONE, "+1 202 555 0143") == "+12025550143"


def test_blind_index_is_deterministic_hex_and_keyed():
    first = blind_index(KEY, "phone", "+525512345678")
    assert first == blind_index(KEY, "phone", "+525512345678")
    assert len(first) == 64 and set(first) <= set("0123456789abcdef")
    assert first != blind_index(OTHER_KEY, "phone", "+525512345678")
    assert first == blind_index(KEY, IdentifierType.PHONE, "+525512345678")


def test_blind_index_is_domain_separated_hmac_not_a_plain_hash():
    value = "+525512345678"
    message = b"wgx-lookup-v1\x00phone\x00" + value.encode()
    index = blind_index(KEY, "phone", value)
    # Pins the message format: changing it silently orphans every stored index.
    assert index == hmac.new(KEY, message, hashlib.sha256).hexdigest()
    assert index not in {
        hashlib.sha256(value.encode()).hexdigest(),
        hashlib.sha256(message).hexdigest(),
        hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest(),
    }


def test_blind_index_refuses_short_keys_and_raw_values():
    with pytest.raises(ValueError, match="at least 32 bytes"):
        blind_index(b"short", "phone", "+525512345678")
    with pytest.raises(ValueError, match="output of normalise"):
        blind_index(KEY, "phone", "+52 55 1234 5678")
    with pytest.raises(InvalidIdentifier):
        blind_index(KEY, "ssn", "123456789")


def test_name_dob_value_builds_what_normalise_reads():
    value = name_dob_value(" José Luis Pérez García ", datetime.date(1990, 3, 1))
    assert value == "José Luis Pérez García 1990-03-01"
    assert normalise("name_dob", value) == JOSE
    with pytest.raises(TypeError):
        name_dob_value("José Pérez", datetime.datetime(1990, 3, 1, 12, 0))
