"""GET /api/v1/audit/entries/: auditors see their country's entries, oversight all, others 403."""

import base64
from urllib.parse import urlencode

import pytest
from django.db import transaction

import audit
from audit.models import AuditEntry
from tests.audit.conftest import a_case

URL = "/api/v1/audit/entries/"


@pytest.fixture
def holdings(db, drain, stand_ins_shared, us_investigator, mx_investigator, gt_investigator):
    """One entry per (actor country, case country) pair, and an administrator's entry."""
    cases = {cc: a_case(cc) for cc in ("US", "MX", "GT")}
    for actor in (us_investigator, mx_investigator, gt_investigator):
        for case in cases.values():
            audit.record("case.view", actor, target=("cases.case", str(case.pk)), case=case)
            drain()
    audit.record("member.create", "admin", target=("workinggroup.user", "9"), outcome="failure")
    drain()
    return cases


def seqs(response):
    assert response.status_code == 200, response.content
    return [e["seq"] for e in response.json()["results"]]


def pairs(response):
    assert response.status_code == 200, response.content
    return sorted(
        (e["actor_country"], e["case_country"])
        for e in response.json()["results"]
        if e["action"] == "case.view"
    )


def test_country_auditor_sees_entries_whose_actor_or_case_is_of_their_country(
    holdings, api, mx_auditor
):
    assert pairs(api(mx_auditor).get(URL)) == [
        ("GT", "MX"),
        ("MX", "GT"),
        ("MX", "MX"),
        ("MX", "US"),
        ("US", "MX"),
    ]


def test_oversight_auditor_sees_every_entry(holdings, api, oversight_auditor):
    assert seqs(api(oversight_auditor).get(URL)) == list(range(10, 0, -1))  # newest first


@pytest.mark.parametrize("persona", ["us_investigator", "mx_liaison", "administrator"])
def test_everyone_else_is_refused_with_403(holdings, api, request, persona):
    response = api(request.getfixturevalue(persona)).get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "Only auditors may read the audit log."}


def test_anonymous_callers_are_refused(holdings, api):
    assert api(None).get(URL).status_code in (401, 403)


def test_entries_are_the_chain_objects(holdings, api, oversight_auditor):
    entry = api(oversight_auditor).get(URL, {"page_size": 1}).json()["results"][0]
    stored = AuditEntry.objects.get(seq=entry["seq"])
    from audit import chain

    assert entry == {**chain.entry_dict(stored), "hash": stored.hash}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": "gt.investigator"}, [("GT", "GT"), ("GT", "MX"), ("GT", "US")]),
        ({"country": "gt"}, [("GT", "GT"), ("GT", "MX"), ("GT", "US"), ("MX", "GT"), ("US", "GT")]),
        ({"country": "US", "actor": "mx.investigator"}, [("MX", "US")]),
        ({"action": "member.create"}, []),
        ({"outcome": "failure"}, []),
    ],
)
def test_filters_narrow_the_entries(holdings, api, oversight_auditor, params, expected):
    assert pairs(api(oversight_auditor).get(URL, params)) == expected


def test_action_and_outcome_filters_find_the_administrators_entry(
    holdings, api, oversight_auditor
):
    client = api(oversight_auditor)
    assert seqs(client.get(URL, {"action": "member.create"})) == [10]
    assert seqs(client.get(URL, {"outcome": "failure"})) == [10]


def test_case_filter(holdings, api, oversight_auditor):
    response = api(oversight_auditor).get(URL, {"case": str(holdings["GT"].pk)})
    assert pairs(response) == [("GT", "GT"), ("MX", "GT"), ("US", "GT")]


def test_since_and_until_filter_on_occurred_at(holdings, api, oversight_auditor):
    from audit import chain

    fifth = AuditEntry.objects.get(seq=5)
    client = api(oversight_auditor)
    at = chain.format_timestamp(fifth.occurred_at)
    assert seqs(client.get(URL, {"since": at})) == [10, 9, 8, 7, 6, 5]
    assert seqs(client.get(URL, {"until": at})) == [4, 3, 2, 1]


def test_a_country_filter_cannot_widen_a_country_auditors_view(holdings, api, us_auditor):
    assert pairs(api(us_auditor).get(URL, {"country": "MX"})) == [("MX", "US"), ("US", "MX")]


def forged_cursor(position: str) -> str:
    """A cursor DRF decodes (base64 of its query string) whose position is not a seq."""
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"case": "not-a-uuid"}, "case"),
        ({"action": "case.teleport"}, "action"),
        ({"outcome": "maybe"}, "outcome"),
        ({"country": "USA"}, "country"),
        ({"country": "%s"}, "country"),  # django-filter %-formats messages: was a 500
        ({"country": "1x"}, "country"),
        ({"since": "2026-01-01T00:00:00+16:00"}, "since"),  # PostgreSQL refuses it: was a 500
        ({"until": "2026-01-01T00:00:00-23:59"}, "until"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": forged_cursor("seq-of-nothing")}, "cursor"),  # was a 500
        ({"cursor": forged_cursor("1; DROP")}, "cursor"),
        ({"page_size": "lots"}, "page_size"),  # the schema says an integer from 1
        ({"page_size": "0"}, "page_size"),
        ({"since": ""}, "since"),  # a parameter given has a value (docs/api.md)
        ({"acter": "alice"}, "acter"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(holdings, api, oversight_auditor, params, field):
    response = api(oversight_auditor).get(URL, params)
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith(f"{field}: ")


def test_an_unknown_country_code_matches_nothing(holdings, api, oversight_auditor):
    # Checked for form only (audit does not read the working group's countries): a code of
    # no country narrows the answer to nothing, never widens it.
    response = api(oversight_auditor).get(URL, {"country": "XX"})
    assert (response.status_code, response.json()["results"]) == (200, [])


def test_offsets_within_the_range_postgresql_keeps_are_accepted(holdings, api, oversight_auditor):
    response = api(oversight_auditor).get(URL, {"since": "2000-01-01T00:00:00+15:59",
                                                "until": "2999-01-01T00:00:00-15:59"})
    assert response.status_code == 200 and len(response.json()["results"]) == 10


def test_cursor_pagination_walks_every_entry_once(holdings, api, oversight_auditor):
    client, seen, url = api(oversight_auditor), [], URL + "?page_size=3"
    while url:
        body = client.get(url).json()
        assert set(body) == {"results", "next", "previous"}
        seen += [e["seq"] for e in body["results"]]
        url = body["next"]
    assert seen == list(range(10, 0, -1))


def test_a_view_is_audited_with_its_filters(holdings, api, gt_auditor, audit_log):
    api(gt_auditor).get(URL, {"actor": "gt.investigator", "page_size": "2"})

    [entry] = audit_log(action="audit.view")
    assert (entry.actor, entry.actor_country, entry.outcome) == ("gt.auditor", "GT", "success")
    assert entry.details == {
        "filters": {"actor": "gt.investigator"},
        "cursor": False,
        "returned": 2,
    }


def test_answers_are_never_cached(holdings, api, oversight_auditor):
    response = api(oversight_auditor).get(URL)
    assert "no-store" in response["Cache-Control"]


def test_an_entry_recorded_in_a_rolled_back_request_does_not_appear(
    holdings, api, oversight_auditor
):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("case.view", "ghost")
        raise RuntimeError
    assert "ghost" not in [e["actor"] for e in api(oversight_auditor).get(URL).json()["results"]]
