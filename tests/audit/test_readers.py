"""No audit entry a country's auditors read names a case that country could not see.

The invariant of audit/visibility.py, over a scenario that runs every audited action about a
partner's case (lookups, hits, requests from hits, offers, approvals, denials, revocations,
expiries, refused decisions and refused reads) through the API and the services. After each
step the test asks the case gate which cases each country sees, so "could see when the event
happened" comes from the access model, not from the audit code under test. Then every way an
auditor reads (the list, the filter by case, the export) is checked against it; the owner's
auditors and oversight must still read the full trail, and every export must verify.
"""

import datetime as dt
import json

import pytest
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEntry
from cases.selectors import visible_cases
from sharing.services import share_expire_due, share_request_approve, share_request_open
from tests.audit.standalone import run
from workinggroup.models import Country

COUNTRIES = ("US", "GT", "MX")
ENTRIES, EXPORT = "/api/v1/audit/entries/", "/api/v1/audit/export/"
PHONE = "+1 202 555 0143"


def later(**delta):
    return (timezone.now() + dt.timedelta(**delta)).isoformat()


@pytest.fixture
def scenario(db, api, drain, make_case, make_member, us_investigator, us_liaison,
             mx_investigator, mx_liaison, gt_investigator, gt_liaison):
    """Run the scenario; returns (steps, cases): steps are (last seq, {country: seen before
    and after the step}) in order, cases {name: case}."""
    from cases.services import subject_add

    us_case = make_case("US", title="Operation Quetzal")
    subject_add(case=us_case, actor=us_investigator, full_name="Rigoberto Salazar Cruz",
                role="organiser", identifiers=[{"identifier_type": "phone", "value": PHONE}])
    gt_case = make_case("GT", title="Caso Xela")
    cases = {"us": us_case, "gt": gt_case}
    members = {"US": us_investigator, "GT": gt_investigator, "MX": mx_investigator}
    steps = []

    def seen():
        return {cc: set(visible_cases(m).values_list("pk", flat=True)) for cc, m in members.items()}

    def step(action):
        before = seen()
        action()
        drain()
        after = seen()
        last = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
        steps.append((last, {cc: before[cc] & after[cc] for cc in COUNTRIES}))

    def ok(response, status=200):
        assert response.status_code == status, response.content
        return response.json()

    hits = {}

    def lookup(member, key):
        body = ok(api(member).post("/api/v1/lookup/", {"identifier_type": "phone",
                                                        "value": PHONE}, format="json"))
        assert [h["country"] for h in body["hits"]] == ["US"]
        hits[key] = body["hits"][0]["hit_id"]

    def from_hit(member, key):
        body = ok(api(member).post("/api/v1/share-requests/", {
            "hit_id": hits[key], "scope": "full", "justification": "Same phone in our file",
            "expires_at": later(days=20)}, format="json"), 201)
        hits[key + ".request"] = body["results"][0]["id"]

    requests = lambda key: f"/api/v1/share-requests/{hits[key + '.request']}/"  # noqa: E731

    step(lambda: [lookup(mx_investigator, "mx"), lookup(gt_investigator, "gt")])
    step(lambda: ok(api(us_liaison).get("/api/v1/lookup/hits/")))
    step(lambda: from_hit(mx_investigator, "mx"))
    step(lambda: from_hit(gt_investigator, "gt"))
    # While pending: the requester reads its request; a refused read of the case itself; a
    # refused decision by the requester's own liaison; a request by id for an unseen case.
    step(lambda: ok(api(mx_investigator).get(requests("mx"))))
    step(lambda: ok(api(mx_investigator).get(f"/api/v1/cases/{us_case.pk}/"), 404))
    step(lambda: ok(api(mx_liaison).post(requests("mx") + "approve/", {}, format="json"), 403))
    step(lambda: ok(api(gt_liaison).post(requests("gt") + "deny/", {}, format="json"), 403))
    step(lambda: ok(api(mx_investigator).post("/api/v1/share-requests/", {
        "case": str(us_case.pk), "scope": "summary", "justification": "By id",
        "expires_at": later(days=5)}, format="json"), 404))
    # Decisions: MX approved then revoked, GT denied; MX reads while it may.
    step(lambda: ok(api(us_liaison).post(requests("mx") + "approve/", {}, format="json")))
    step(lambda: ok(api(mx_investigator).get(f"/api/v1/cases/{us_case.pk}/")))
    step(lambda: ok(api(mx_investigator).get(f"/api/v1/cases/{us_case.pk}/subjects/")))
    step(lambda: ok(api(us_liaison).post(requests("gt") + "deny/", {}, format="json")))
    step(lambda: ok(api(us_liaison).post(requests("mx") + "revoke/", {}, format="json")))
    step(lambda: ok(api(mx_investigator).get(f"/api/v1/cases/{us_case.pk}/"), 404))
    step(lambda: ok(api(mx_liaison).post(requests("mx") + "revoke/", {}, format="json"), 403))
    # An offer from GT to MX, approved, then expired; MX reads in between.
    offered = {}

    def offer():
        offered["request"] = share_request_open(
            requester=gt_investigator, case=gt_case, recipient_country=Country.objects.get(
                code="MX"), scope="summary", justification="Offer",
            expires_at=timezone.now() + dt.timedelta(hours=2))

    step(offer)
    step(lambda: share_request_approve(share_request=offered["request"], liaison=gt_liaison))
    step(lambda: ok(api(mx_investigator).get(f"/api/v1/cases/{gt_case.pk}/")))
    step(lambda: share_expire_due(at=timezone.now() + dt.timedelta(hours=3)))

    # Issue 18: an H2 case offered to MX and GT at once; two US liaisons approve MX's (the
    # first one's second try refused), GT's is denied after one approval; MX asks to renew,
    # the revocation cancels the renewal, and a renewal asked after it is refused. And an
    # administrator changes the US approval policy.
    us_liaison2 = make_member("US", "liaison", username="us.liaison2")
    h2_case = cases["h2"] = make_case("US", title="Operation Ceiba", handling_code="H2")
    two = {}

    def offer_both():
        body = ok(api(us_investigator).post("/api/v1/share-requests/", {
            "case": str(h2_case.pk), "recipient_countries": ["MX", "GT"], "scope": "summary",
            "justification": "Both borders", "expires_at": later(days=30)}, format="json"), 201)
        two.update({r["recipient_country"]: f"/api/v1/share-requests/{r['id']}/"
                    for r in body["results"]})

    step(offer_both)
    step(lambda: ok(api(us_liaison).post(two["MX"] + "approve/", {}, format="json")))
    step(lambda: ok(api(mx_investigator).get(f"/api/v1/cases/{h2_case.pk}/"), 404))
    step(lambda: ok(api(us_liaison).post(two["MX"] + "approve/", {}, format="json"), 403))
    step(lambda: ok(api(us_liaison2).post(two["MX"] + "approve/", {}, format="json")))
    step(lambda: ok(api(us_liaison).post(two["GT"] + "approve/", {}, format="json")))
    step(lambda: ok(api(us_liaison2).post(two["GT"] + "deny/", {}, format="json")))
    step(lambda: ok(api(mx_investigator).get(f"/api/v1/cases/{h2_case.pk}/")))
    step(lambda: ok(api(mx_investigator).get(two["MX"])))
    step(lambda: ok(api(gt_investigator).get(two["GT"])))

    def renew():
        body = ok(api(mx_investigator).post(two["MX"] + "renew/", {
            "justification": "Still active", "expires_at": later(days=60)}, format="json"),
            201)
        two["renewal"] = f"/api/v1/share-requests/{body['id']}/"

    step(renew)
    step(lambda: ok(api(us_liaison).post(two["renewal"] + "approve/", {}, format="json")))
    step(lambda: ok(api(us_liaison).post(two["MX"] + "revoke/", {}, format="json")))
    step(lambda: ok(api(mx_investigator).post(two["MX"] + "renew/", {
        "justification": "Again", "expires_at": later(days=60)}, format="json"), 409))
    step(lambda: ok(api(mx_investigator).get(two["renewal"])))

    def policy():
        from sharing.policy import share_policy_update

        share_policy_update(actor=make_member(None, "administrator", username="admin"),
                            owner_country="US", handling_code="H3", approvals_required=3)

    step(policy)
    return steps, cases


def names(entry: dict, case_id: str) -> bool:
    """The entry names the case anywhere: its case fields, its target, its details.

    A refused read answered 404 keeps the path its member typed (the answer is the one an id
    of no case gets, so it tells nothing of the case): that path is the member's own words.
    """
    entry = dict(entry)
    if entry["action"] == "access.denied" and entry["details"].get("status") == 404:
        entry["details"] = {k: v for k, v in entry["details"].items() if k != "path"}
        entry["target_id"] = ""
    return case_id in json.dumps(entry)


def violations(entries, steps, cases, country) -> list:
    """(seq, case) pairs where an entry readable by `country` names a case it did not see."""
    found = []
    for entry in entries:
        seen = next(s[1][country] for s in steps if entry["seq"] <= s[0])
        for case in cases.values():
            if case.pk not in seen and names(entry, str(case.pk)):
                found.append((entry["seq"], str(case.pk)))
    return found


def listed(client, **params) -> list[dict]:
    """Every entry the list answers, following the cursor."""
    entries, url, params = [], ENTRIES, {"page_size": 1000, **params}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        entries += response.json()["results"]
        url, params = response.json()["next"], None
    return entries


def exported(client, **params) -> list[dict]:
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def test_no_entry_an_auditor_reads_names_a_case_their_country_could_not_see(
    scenario, api, us_auditor, mx_auditor, gt_auditor, oversight_auditor, tmp_path
):
    steps, cases = scenario
    end = steps[-1][0]
    auditors = {"US": us_auditor, "MX": mx_auditor, "GT": gt_auditor}
    # The scenario did split events: without that this test could pass with nothing to check.
    withheld = AuditEntry.objects.filter(seq__lte=end, details__case_withheld=True)
    assert {e.actor_country for e in withheld} == {"MX", "GT"}
    assert {e.action for e in withheld} >= {"share.open", "share.list", "share.approve",
                                           "share.deny", "share.revoke", "share.renew"}
    # Issue 18's actions were all recorded (the cancellation by the revocation).
    actions = set(AuditEntry.objects.filter(seq__lte=end).values_list("action", flat=True))
    assert actions >= {"share.renew", "share.cancel", "share.policy_update"}
    for country, auditor in auditors.items():
        client = api(auditor)
        reads = {"list": listed(client), "export": exported(client)}
        for name, case in cases.items():
            reads[f"case={name}"] = listed(client, case=str(case.pk))
            reads[f"export case={name}"] = exported(client, case=str(case.pk))
        for how, entries in reads.items():
            entries = [e for e in entries if e["seq"] <= end]  # the reads above are audited
            assert violations(entries, steps, cases, country) == [], (country, how)
        path = tmp_path / f"{country}.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in reads["export"]))
        result = run("verify_export.py", path, cwd=tmp_path)
        assert (result.returncode, result.stderr) == (0, ""), country
        assert result.stdout.startswith("OK: ")

    # The owner's auditors still read every entry naming their case, in full.
    for country, case in (("US", cases["us"]), ("GT", cases["gt"])):
        owned = set(AuditEntry.objects.filter(seq__lte=end, case_id=str(case.pk))
                    .values_list("seq", flat=True))
        assert owned
        read = {e["seq"] for e in listed(api(auditors[country]), case=str(case.pk))}
        assert owned <= read
    # Oversight reads everything, and its export is the whole chain without a gap.
    everything = exported(api(oversight_auditor))
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    path = tmp_path / "oversight.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in everything))
    result = run("verify_export.py", path, cwd=tmp_path)
    assert result.stdout.endswith(" 0 gap(s)\n"), result.stdout + result.stderr


def test_the_check_finds_the_leak_of_the_old_rule(scenario):
    """The old rule (actor's or case's country) fails the same check: it can fail."""
    steps, cases = scenario
    end = steps[-1][0]
    mx_old = AuditEntry.objects.filter(Q(actor_country="MX") | Q(case_country="MX"),
                                       seq__lte=end)
    entries = [json.loads(e.body) | {"hash": e.hash} for e in mx_old]
    leaks = violations(entries, steps, cases, "MX")
    assert {case for _, case in leaks} == {str(cases["us"].pk), str(cases["h2"].pk)}


def test_mx_auditor_no_longer_sees_the_us_case_behind_a_share_request_from_a_hit(
    scenario, api, mx_auditor, us_auditor
):
    _, cases = scenario
    us_case = str(cases["us"].pk)
    [mx_view] = [e for e in listed(api(mx_auditor), action="share.open")
                 if e["actor_country"] == "MX"]
    assert (mx_view["case_id"], mx_view["case_country"]) == ("", "")
    assert mx_view["readers"] == ["MX"] and mx_view["target_type"] == "sharing.sharerequest"
    assert mx_view["details"] == {"case_withheld": True, "expires_at": mx_view["details"][
        "expires_at"], "origin": "hit", "recipient_country": "MX", "scope": "full"}
    assert us_case not in json.dumps(mx_view)
    assert listed(api(mx_auditor), case=us_case, action="share.open") == []
    # The owner's auditors read the full entry, chained right before the copy.
    [us_view] = [e for e in listed(api(us_auditor), action="share.open", case=us_case)
                 if e["actor_country"] == "MX"]
    assert (us_view["case_id"], us_view["case_country"], us_view["readers"]) == (
        us_case, "US", ["US"])
    assert us_view["seq"] + 1 == mx_view["seq"]


# --- The readers column: tied to the body; entries chained before it ------------------------


@pytest.fixture
def legacy_and_new(db, drain, us_investigator, mx_investigator, stand_ins_shared):
    """Entries chained before readers existed (events without it, as the outbox held them at
    the upgrade) beside new ones: an MX read of a US case, an MX sign-in, a US read."""
    from audit.models import OutboxEvent
    from tests.audit.conftest import a_case

    us_case = a_case("US")
    base = {"target_type": "", "target_id": "", "outcome": "success", "ip": "",
            "request_id": "", "details": {}}
    for actor, country, case_id, case_country, action in [
        ("mx.investigator", "MX", str(us_case.pk), "US", "case.view"),
        ("mx.investigator", "MX", "", "", "auth.login"),
        ("us.investigator", "US", str(us_case.pk), "US", "case.view"),
    ]:
        OutboxEvent.objects.create(event={**base, "actor": actor, "actor_country": country,
                                          "case_id": case_id, "case_country": case_country,
                                          "action": action})
    drain()
    import audit

    audit.record("case.view", mx_investigator, target=("cases.case", str(us_case.pk)),
                 case=us_case)  # shared with everyone (stand_ins_shared): readers MX, US
    drain()
    return us_case


def test_entries_chained_before_readers_show_a_partner_case_only_to_its_owner(
    legacy_and_new, api, mx_auditor, us_auditor, oversight_auditor
):
    assert list(AuditEntry.objects.order_by("seq").values_list("readers", flat=True)) == [
        None, None, None, "MX,US"]
    mx = [(e["seq"], e.get("readers")) for e in listed(api(mx_auditor))]
    assert mx[-2:] == [(4, ["MX", "US"]), (2, None)]  # newest first; not #1 (a US case)
    assert {e["seq"] for e in listed(api(us_auditor))} >= {1, 3, 4}
    assert {e["seq"] for e in listed(api(oversight_auditor))} >= {1, 2, 3, 4}


def test_readers_are_in_the_hashed_body_and_the_export(legacy_and_new, api, oversight_auditor):
    from audit import verification

    lines = [e for e in exported(api(oversight_auditor)) if e["seq"] <= 4]
    assert ["readers" in e for e in lines] == [False, False, False, True]
    assert json.loads(AuditEntry.objects.get(seq=4).body)["readers"] == ["MX", "US"]
    assert verification.verify_chain().ok


def test_a_rewritten_readers_column_is_caught(legacy_and_new):
    from audit import verification
    from tests.audit.conftest import sql, triggers_lifted

    with triggers_lifted():  # on PostgreSQL the constraint would refuse it outright
        sql("UPDATE audit_auditentry SET readers = 'GT,MX,US' WHERE seq = 4")
    result = verification.verify_chain()
    assert (result.ok, result.first_bad_seq) == (False, 4)


@pytest.mark.usefixtures("postgres")
def test_on_postgresql_the_readers_column_cannot_drift_from_the_body(legacy_and_new):
    from django.db import IntegrityError, connection, transaction

    from audit import triggers
    from tests.audit.conftest import sql

    triggers.drop(connection)
    for statement in ("UPDATE audit_auditentry SET readers = 'MX' WHERE seq = 4",
                      "UPDATE audit_auditentry SET readers = 'MX' WHERE seq = 1",
                      "UPDATE audit_auditentry SET readers = NULL WHERE seq = 4"):
        with pytest.raises(IntegrityError, match="audit_entry_columns_match_body"):
            with transaction.atomic():
                sql(statement)
    assert triggers.body_constraint_holds(connection)


def test_the_copy_for_the_actors_country_keeps_only_what_the_request_said(monkeypatch):
    """visibility.split on an event that names an unseen case through its target, its path
    and its details: the copy has the URL pattern, no case object, only request details."""
    from types import SimpleNamespace

    from audit import visibility

    monkeypatch.setattr(visibility, "_question", [lambda case, country: False])
    case = SimpleNamespace(pk="c0ffee00-0000-4000-8000-000000000001", owner_country_id="US")
    path = f"/api/v1/cases/{case.pk}/attachments/"
    event = {"actor": "mx.investigator", "actor_country": "MX", "action": "access.denied",
             "target_type": "request", "target_id": path[:64], "case_id": case.pk,
             "case_country": "US", "outcome": "denied", "ip": "10.0.0.1", "request_id": "r1",
             "details": {"method": "GET", "path": path, "status": 403, "reason": "US only",
                         "reference": "US-2026-0001", "scope": "full"}}
    full, copy = visibility.split(dict(event), case, "api/v1/cases/<str:case_id>/attachments/")
    assert full == {**event, "readers": "US"}
    assert copy == {**event, "case_id": "", "case_country": "", "readers": "MX",
                    "target_id": "api/v1/cases/<str:case_id>/attachments/",
                    "details": {"method": "GET", "status": 403, "scope": "full",
                                "path": "api/v1/cases/<str:case_id>/attachments/",
                                "case_withheld": True}}
    # A case object as the target goes too; a country that sees the case gets one entry.
    event = {**event, "target_type": "cases.case", "target_id": case.pk}
    assert visibility.split(dict(event), case, None)[1]["target_id"] == ""
    monkeypatch.setattr(visibility, "_question", [lambda case, country: True])
    [one] = visibility.split(dict(event), case, None)
    assert one["readers"] == "MX,US" and one["case_id"] == case.pk


def test_without_a_registered_question_a_partner_case_is_split_never_leaked(monkeypatch):
    from types import SimpleNamespace

    from audit import visibility

    monkeypatch.setattr(visibility, "_question", [])
    case = SimpleNamespace(pk="c0ffee00-0000-4000-8000-000000000002", owner_country_id="GT")
    event = {"actor": "a", "actor_country": "MX", "action": "case.view", "target_type": "",
             "target_id": "", "case_id": case.pk, "case_country": "GT", "outcome": "success",
             "ip": "", "request_id": "", "details": {}}
    assert [e["readers"] for e in visibility.split(dict(event), case, None)] == ["GT", "MX"]


def test_the_cases_app_registers_its_question_at_start_up():
    from audit import visibility
    from cases.audit_hook import country_sees_case

    assert visibility._question == [country_sees_case]
