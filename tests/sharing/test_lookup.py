"""Hit/no-hit lookup: partners learn a country and a count, never which case or what is in it."""

import datetime as dt
import hashlib
import json
import shutil

import pytest
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from freezegun import freeze_time

from core import keyring
from sharing.lookup import lookup_hit_claim
from sharing.models import LookupHit

LOOKUP = "/api/v1/lookup/"

# (type, value as the owner stored it, variants a partner might type, near misses)
MATRIX = [
    ("passport", "G1234 5678", ["g-12345678", "G 1234-5678", " g12345678 "], ["G12345679"]),
    ("national_id", "PEGJ-900301-HDFRRS09", ["pegj900301hdfrrs09", "PEGJ 900301 HDFRRS09"],
     ["PEGJ900301HDFRRS08"]),
    ("phone", "+52 55 1234 5678", ["0052 55 1234 5678", "+525512345678", "+52 (55) 1234-5678",
                                   "+52 1 55 1234 5678"], ["+52 55 1234 5679", "+1 202 555 0143"]),
    ("email", "Ana.Lopez@Example.MX", ["ana.lopez@example.mx", " ANA.LOPEZ@EXAMPLE.MX "],
     ["ana.lopez@example.com", "analopez@example.mx"]),
    ("vehicle_plate", "ABC-123-D", ["abc 123 d", "ABC123D"], ["ABC123E"]),
    ("bank_account", "GT82 TRAJ 0102 0000 0012 1002 9690", ["gt82traj01020000001210029690"],
     ["GT82TRAJ01020000001210029691"]),
    ("name_dob", None, ["PEREZ GARCIA, Jose Luis 1990-03-01", "jose luis perez garcia 1990-03-01",
                        "García Pérez José Luis 1990-03-01"],
     ["Jose Luis Perez Garcia 1990-03-02", "Jose Perez Garcia 1990-03-01"]),
]


@pytest.fixture
def add_identifier(make_member):
    """add_identifier(case, type, value) -> a subject holding it, through subject_add."""
    from cases.services import subject_add

    def add(case, identifier_type, value):
        author = make_member(case.owner_country_id, "investigator")
        return subject_add(case=case, actor=author, full_name="Someone Else", role="organiser",
                           identifiers=[{"identifier_type": identifier_type, "value": value}])

    return add


@pytest.fixture
def mx_case(make_case, make_member, add_identifier):
    """An MX case holding one identifier of every type, and José Luis with his birth date."""
    from cases.services import subject_add

    case = make_case("MX", title="Red de Tapachula")
    for identifier_type, value, _, _ in MATRIX:
        if value is not None:
            add_identifier(case, identifier_type, value)
    subject_add(case=case, actor=make_member("MX", "investigator"),
                full_name="José Luis Pérez García", role="organiser",
                date_of_birth=dt.date(1990, 3, 1))
    return case


@pytest.mark.parametrize("identifier_type, stored, variants, misses", MATRIX,
                         ids=[row[0] for row in MATRIX])
def test_every_variant_hits_and_near_misses_do_not(db, api, us_investigator, mx_case,
                                                   identifier_type, stored, variants, misses):
    client = api(us_investigator)
    for value in variants:
        response = client.post(LOOKUP, {"identifier_type": identifier_type, "value": value},
                               format="json")
        assert response.status_code == 200, (value, response.json())
        body = response.json()
        assert [(h["country"], h["cases"]) for h in body["hits"]] == [("MX", 1)], value
        assert body["own"] == []
    for value in misses:
        response = client.post(LOOKUP, {"identifier_type": identifier_type, "value": value},
                               format="json")
        assert response.json() == {"hits": [], "own": []}, value


def test_same_value_under_another_type_does_not_hit(db, api, us_investigator, mx_case):
    response = api(us_investigator).post(
        LOOKUP, {"identifier_type": "national_id", "value": "G12345678"}, format="json")
    assert response.json() == {"hits": [], "own": []}


def test_partner_hit_reveals_nothing_of_the_case(db, api, us_investigator, mx_case):
    response = api(us_investigator).post(
        LOOKUP, {"identifier_type": "name_dob", "value": "PEREZ GARCIA, Jose Luis 1990-03-01"},
        format="json")
    raw = response.content.decode()
    body = json.loads(raw)
    assert set(body) == {"hits", "own"}
    assert set(body["hits"][0]) == {"country", "cases", "hit_id"}
    for secret in [str(mx_case.id), mx_case.reference, mx_case.title, "Perez", "PEREZ", "Pérez",
                   "1990", "03-01", mx_case.case_type, mx_case.created_at.isoformat()[:10]]:
        assert secret not in raw, secret


def test_own_and_fully_shared_cases_come_back_as_summaries(db, api, mx_investigator, mx_case):
    response = api(mx_investigator).post(
        LOOKUP, {"identifier_type": "passport", "value": "G12345678"}, format="json")
    body = response.json()
    assert body["hits"] == []
    assert [c["reference"] for c in body["own"]] == [mx_case.reference]
    assert body["own"][0]["handling_code"] == mx_case.handling_code


def test_hits_are_counted_per_country(db, api, gt_investigator, make_case, add_identifier):
    for country in ("MX", "MX", "US"):
        add_identifier(make_case(country), "phone", "+502 5123 4567")
    response = api(gt_investigator).post(
        LOOKUP, {"identifier_type": "phone", "value": "+502 5123-4567"}, format="json")
    assert [(h["country"], h["cases"]) for h in response.json()["hits"]] == [("MX", 2), ("US", 1)]


def test_each_partner_country_hit_is_one_row_holding_its_cases(
        db, api, gt_investigator, make_case, add_identifier, audit_log):
    mx_cases = [make_case("MX"), make_case("MX")]
    us_case = make_case("US")
    for case in (*mx_cases, us_case):
        add_identifier(case, "phone", "+502 5123 4567")
    before = timezone.now()
    body = api(gt_investigator).post(
        LOOKUP, {"identifier_type": "phone", "value": "+502 5123-4567"}, format="json").json()
    rows = {hit.owner_country_id: hit for hit in LookupHit.objects.all()}
    assert set(rows) == {"MX", "US"}
    assert rows["MX"].case_ids == sorted(str(case.pk) for case in mx_cases)
    assert rows["US"].case_ids == [str(us_case.pk)]
    for hit in rows.values():
        assert hit.requested_by == gt_investigator and hit.identifier_type == "phone"
        assert hit.used_at is None and hit.created_at >= before
        assert hit.expires_at == hit.created_at + dt.timedelta(hours=24)
    assert [h["hit_id"] for h in body["hits"]] == [str(rows["MX"].pk), str(rows["US"].pk)]
    [entry] = audit_log(action="lookup.search")
    assert entry.details["hit_ids"] == [h["hit_id"] for h in body["hits"]]
    assert (entry.details["partner_countries"], entry.details["partner_cases"]) == (2, 3)


def test_a_miss_records_no_hit_and_is_one_statement_holding_the_audit_insert(
        db, redis_limiter, us_investigator, mx_case, django_assert_num_queries, audit_log):
    from sharing.lookup import lookup_identifier
    from workinggroup.models import User

    # Roles loaded up front, so the count is the lookup's own work: the investigator check
    # reads them (one query, as it did in the view before it moved into the service).
    member = User.objects.prefetch_related("groups").get(pk=us_investigator.pk)
    # The rate limit is one Redis call; on PostgreSQL the match and the outbox INSERT are one
    # statement (a data-modifying CTE), elsewhere two.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        result = lookup_identifier(user=member, identifier_type="passport",
                                   value="Z9999 9999")
    assert result == {"hits": [], "own": []}
    assert not LookupHit.objects.exists()
    [entry] = audit_log(action="lookup.search")
    assert entry.details == {
        "identifier_type": "passport", "blind_index": entry.details["blind_index"],
        "own_matches": 0, "partner_countries": 0, "partner_cases": 0, "hit_ids": [],
    }


def test_a_case_shared_in_full_is_own_and_at_summary_still_a_hit(
        db, api, mx_investigator, make_case, add_identifier, shared):
    full, summary = make_case("US"), make_case("US")
    for case in (full, summary):
        add_identifier(case, "email", "ring@example.org")
    shared(full, "MX", "full")
    shared(summary, "MX", "summary")
    body = api(mx_investigator).post(
        LOOKUP, {"identifier_type": "email", "value": "RING@example.org"}, format="json").json()
    assert [c["reference"] for c in body["own"]] == [full.reference]
    assert [(h["country"], h["cases"]) for h in body["hits"]] == [("US", 1)]
    assert LookupHit.objects.get().case_ids == [str(summary.pk)]


def test_only_investigators_look_up(db, api, us_liaison, us_auditor, audit_log):
    for member in (us_liaison, us_auditor):
        response = api(member).post(LOOKUP, {"identifier_type": "phone", "value": "+15555550100"},
                                    format="json")
        assert response.status_code == 403
    assert len(audit_log(action="access.denied")) == 2


@pytest.mark.parametrize("payload, field", [
    ({"identifier_type": "passport"}, "value"),
    ({"identifier_type": "shoe_size", "value": "42"}, "identifier_type"),
    ({"identifier_type": "phone", "value": "not a number"}, "value"),
    ({"identifier_type": "name_dob", "value": "Jose Perez 01/03/1990"}, "value"),
    ({"identifier_type": "email", "value": "x" * 300}, "value"),
])
def test_bad_input_is_400_naming_the_field(db, api, us_investigator, payload, field):
    response = api(us_investigator).post(LOOKUP, payload, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: ")


def test_every_lookup_is_audited_with_the_blind_index_never_the_value(
        db, api, us_investigator, mx_case, audit_log):
    api(us_investigator).post(LOOKUP, {"identifier_type": "passport", "value": "G1234 5678"},
                              format="json")
    [entry] = audit_log(action="lookup.search")
    assert entry.actor == "us.investigator" and entry.outcome == "success"
    assert entry.details["identifier_type"] == "passport"
    assert len(entry.details["blind_index"]) == 64
    assert (entry.details["partner_countries"], entry.details["partner_cases"]) == (1, 1)
    assert "G12345678" not in json.dumps(entry.details)


def test_owner_liaisons_are_told_who_asked_and_which_cases(
        db, api, us_investigator, mx_liaison, mx_case, mailoutbox,
        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api(us_investigator).post(LOOKUP, {"identifier_type": "passport", "value": "G12345678"},
                                  format="json")
    [mail] = mailoutbox
    assert mail.to == [mx_liaison.email]
    assert "us.investigator (US)" in mail.body and mx_case.reference in mail.body
    assert mx_case.title not in mail.body
    listed = api(mx_liaison).get("/api/v1/lookup/hits/").json()["results"]
    assert [(h["requested_by"], h["requester_country"]) for h in listed] == [
        ("us.investigator", "US")]
    assert listed[0]["cases"] == [{"id": str(mx_case.id), "reference": mx_case.reference}]


def test_partners_liaisons_do_not_see_hits_on_other_countries(db, api, us_investigator,
                                                              gt_liaison, mx_case):
    api(us_investigator).post(LOOKUP, {"identifier_type": "passport", "value": "G12345678"},
                              format="json")
    assert api(gt_liaison).get("/api/v1/lookup/hits/").json()["results"] == []


def _hit_id(client):
    response = client.post(LOOKUP, {"identifier_type": "passport", "value": "G12345678"},
                           format="json")
    return response.json()["hits"][0]["hit_id"]


def _claim(user, hit_id):
    with transaction.atomic():
        return lookup_hit_claim(user=user, hit_id=hit_id)


def test_a_hit_is_claimed_once_by_its_member_within_24_hours(
        db, api, us_investigator, gt_investigator, mx_case):
    hit_id = _hit_id(api(us_investigator))
    with pytest.raises(Http404):
        _claim(gt_investigator, hit_id)
    hit = _claim(us_investigator, hit_id)
    assert list(hit.matched_cases()) == [mx_case]
    with pytest.raises(Http404):
        _claim(us_investigator, hit_id)


def test_an_expired_hit_cannot_be_claimed(db, api, us_investigator, mx_case):
    hit_id = _hit_id(api(us_investigator))
    with freeze_time(timezone.now() + dt.timedelta(hours=24, seconds=1)), \
            pytest.raises(Http404):
        _claim(us_investigator, hit_id)
    assert LookupHit.objects.get(pk=hit_id).used_at is None


def test_database_holds_no_unkeyed_hash_of_an_identifier(db, api, us_investigator, mx_case):
    _hit_id(api(us_investigator))
    planted = [v for _, v, _, _ in MATRIX if v] + ["G12345678", "+525512345678"]
    digests = set()
    for value in planted:
        for form in (value, value.upper(), value.lower()):
            digests.add(hashlib.sha256(form.encode()).hexdigest())
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from Django)
            dump.extend(str(row) for row in cursor.fetchall())
    text = "\n".join(dump)
    assert "G12345678" in text  # the identifiers are really in the dump
    assert not [d for d in digests if d in text]


@pytest.fixture
def writable_keyring(tmp_path, settings):
    """A copy of the keyring the test may rotate; the real one is untouched."""
    copy = tmp_path / "keyring.json"
    shutil.copy(settings.WG_KEYRING, copy)
    copy.chmod(0o600)
    settings.WG_KEYRING = str(copy)
    keyring.reload()
    yield copy


def test_rotating_the_lookup_key_keeps_every_match(db, api, us_investigator, mx_case,
                                                   writable_keyring, audit_log):
    from django.core.management import call_command

    from cases.models import Identifier

    old_key = keyring.get_keyring().primary_lookup_key()[0]
    before = {i.pk: i.blind_index for i in Identifier.objects.all()}
    call_command("rotate_lookup_key", "--batch-size", "3", "--retire")
    new_key = keyring.get_keyring().primary_lookup_key()[0]
    assert new_key != old_key
    assert keyring.get_keyring().lookup_key_ids() == [new_key]
    after = {i.pk: (i.blind_index, i.lookup_key_id) for i in Identifier.objects.all()}
    assert all(key_id == new_key for _, key_id in after.values())
    assert all(before[pk] != index for pk, (index, _) in after.items())
    assert [(h["country"], h["cases"]) for h in _lookup_hits(api(us_investigator))] == [("MX", 1)]
    [entry] = audit_log(action="lookup_key.rotate")
    assert entry.details["reindexed"] == len(before) and entry.details["retired"] == [old_key]


def test_an_interrupted_rotation_resumes_and_lookups_match_meanwhile(
        db, api, us_investigator, mx_case, writable_keyring):
    from django.core.management import call_command

    from cases.models import Identifier
    from sharing.lookup import rotate_index

    # Half-done rotation: a new primary key, one identifier re-indexed under it.
    data = keyring.read(writable_keyring)
    new_key = keyring.add_key(data, "lookup")
    keyring.write(writable_keyring, data, overwrite=True)
    ring = keyring.reload()
    passport = Identifier.objects.get(identifier_type="passport")
    rotate_index(passport, new_key, ring.lookup_key(new_key))
    passport.save()
    assert [(h["country"], h["cases"]) for h in _lookup_hits(api(us_investigator))] == [("MX", 1)]
    call_command("rotate_lookup_key")
    assert keyring.get_keyring().primary_lookup_key()[0] == new_key  # no third key
    assert set(Identifier.objects.values_list("lookup_key_id", flat=True)) == {new_key}


def _lookup_hits(client):
    response = client.post(LOOKUP, {"identifier_type": "passport", "value": "G-1234-5678"},
                           format="json")
    return response.json()["hits"]


SHARE_REQUESTS = "/api/v1/share-requests/"


def _ask(client, hit_id, **more):
    body = {"hit_id": hit_id, "scope": "full", "justification": "Same passport in our case",
            "expires_at": (timezone.now() + dt.timedelta(days=30)).isoformat(), **more}
    return client.post(SHARE_REQUESTS, body, format="json")


def test_a_request_from_a_hit_reaches_the_owner_and_grants_nothing_until_approved(
        db, api, us_investigator, mx_liaison, mx_case, mailoutbox,
        django_capture_on_commit_callbacks):
    from cases.selectors import visible_cases

    client = api(us_investigator)
    hit_id = _hit_id(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(client, hit_id)
    assert response.status_code == 201
    [opened] = response.json()["results"]
    assert opened["status"] == "pending" and opened["origin"] == "hit"
    raw = response.content.decode()
    for secret in (str(mx_case.id), mx_case.reference, mx_case.title):
        assert secret not in raw
    assert not visible_cases(us_investigator).filter(pk=mx_case.pk).exists()
    # The owner's liaisons see which of their cases is asked for.
    seen = api(mx_liaison).get(f"{SHARE_REQUESTS}{opened['id']}/").json()
    assert seen["case"] == str(mx_case.id)
    assert any(mx_liaison.email in mail.to for mail in mailoutbox)


def test_a_hit_cannot_be_used_by_another_member_twice_or_late(
        db, api, us_investigator, gt_investigator, make_member, mx_case):
    hit_id = _hit_id(api(us_investigator))
    assert _ask(api(gt_investigator), hit_id).status_code == 404
    colleague = make_member("US", "investigator")
    assert _ask(api(colleague), hit_id).status_code == 404
    assert _ask(api(us_investigator), hit_id).status_code == 201
    assert _ask(api(us_investigator), hit_id).status_code == 404
    late = _hit_id(api(us_investigator))
    with freeze_time(timezone.now() + dt.timedelta(hours=24, seconds=1)):
        assert _ask(api(us_investigator), late).status_code == 404


def test_a_refused_request_leaves_the_hit_unspent(db, api, us_investigator, mx_case):
    client = api(us_investigator)
    hit_id = _hit_id(client)
    bad = _ask(client, hit_id, expires_at=(timezone.now() - dt.timedelta(days=1)).isoformat())
    assert bad.status_code == 400 and bad.json()["detail"].startswith("expires_at: ")
    assert _ask(client, hit_id).status_code == 201


def test_case_or_hit_id_exactly_one(db, api, us_investigator, mx_case):
    client = api(us_investigator)
    hit_id = _hit_id(client)
    both = _ask(client, hit_id, case=str(mx_case.id))
    assert both.status_code == 400 and both.json()["detail"] == "case: give either case or hit_id"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"identifier_type": "passport", "value": "G123", "region": "GT"},
         "region: unknown field"),
        ({"identifier_type": "passport", "value": 12345}, "value: Must be a string."),
    ],
)
def test_an_unknown_key_or_a_number_for_the_value_is_a_400_naming_it(
    db, api, us_investigator, body, detail
):
    response = api(us_investigator).post(LOOKUP, body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == detail
