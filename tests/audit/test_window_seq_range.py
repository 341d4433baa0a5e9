"""A since/until window is also bounded by the seq range it spans (audit.selectors.
window_seq_range): the entries read are exactly those of the occurred_at filter alone, even
when occurred_at is out of seq order, for the list, both exports and the proof bundle's query;
the list's query count does not change."""

import csv
import datetime as dt
import io

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import audit
from audit import chain, rows, selectors
from audit.models import AuditEntry
from tests.audit.conftest import a_case, sql, triggers_lifted

BASE = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
ENTRIES = 31
LIST, EXPORT = "/api/v1/audit/entries/", "/api/v1/audit/export/"


def minute(seq: int) -> int:
    """Entry `seq`'s occurred_at, in minutes after BASE: a permutation of 0..30 that keeps
    seq and time far from equal (11 is coprime to 31), so windows cut across seq order."""
    return (seq * 11) % ENTRIES


def at(minutes: float) -> str:
    return chain.format_timestamp(BASE + dt.timedelta(minutes=minutes))


@pytest.fixture
def scrambled(db, drain, stand_ins_shared, us_investigator, mx_investigator, gt_investigator):
    """31 entries by investigators of three countries on cases of three countries, their
    occurred_at rewritten (as only a test may, triggers lifted) out of seq order."""
    actors = (us_investigator, mx_investigator, gt_investigator)
    for i in range(ENTRIES):
        case = a_case(("GT", "MX", "US")[i % 3 if i % 4 else 1])
        audit.record("case.view", actors[(i // 2) % 3], target=("cases.case", str(case.pk)),
                     case=case)
    drain()
    assert list(AuditEntry.objects.values_list("seq", flat=True)) == list(range(1, ENTRIES + 1))
    with triggers_lifted():
        for seq in range(1, ENTRIES + 1):
            when = BASE + dt.timedelta(minutes=minute(seq))
            when = connection.ops.adapt_datetimefield_value(when)
            sql("UPDATE audit_auditentry SET occurred_at = %s WHERE seq = %s", [when, seq])
    return {seq: minute(seq) for seq in range(1, ENTRIES + 1)}


WINDOWS = [
    {"since": at(10), "until": at(12)},  # seqs 1 (minute 11) and 15 (minute 10): far apart
    {"since": at(0), "until": at(31)},  # everything
    {"since": at(4.5), "until": at(20)},
    {"since": at(29), "until": at(30)},  # one entry
    {"since": at(7), "until": at(7.5)},  # one entry, the bounds inside a minute
    {"since": at(3.2), "until": at(3.8)},  # no entry, entries on both sides
    {"since": at(40), "until": at(50)},  # after every entry
    {"since": at(15)},
    {"until": at(15)},
    {"since": at(30)},
    {"until": at(0)},  # nothing before the first
]


def unbounded(monkeypatch):
    """The same reads without the seq range (the occurred_at filter alone)."""
    monkeypatch.setattr(selectors, "window_seq_range", lambda entries, *a, **k: entries)


def in_window(minutes: dict[int, int], query: dict) -> list[int]:
    since = dt.datetime.fromisoformat(query.get("since", at(-1)))
    until = dt.datetime.fromisoformat(query.get("until", at(10**6)))
    return [seq for seq, m in sorted(minutes.items())
            if since <= BASE + dt.timedelta(minutes=m) < until]


def page_seqs(client, query):
    response = client.get(LIST, {**query, "page_size": 100})
    assert response.status_code == 200, response.content
    return [entry["seq"] for entry in response.json()["results"]]


def export_seqs(client, query):
    response = client.get(EXPORT, query)
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content)
    return [orjson.loads(line)["seq"] for line in body.splitlines()]


def csv_seqs(user, query):
    text = b"".join(selectors.entries_csv(user, query, chunk_size=2)).decode()
    return [int(row[0]) for row in list(csv.reader(io.StringIO(text)))[1:]]


def chunked_seqs(user, query):
    entries, in_window = selectors.entries_in_chunks(user, query)
    text = b"".join(rows.export_lines(entries, chunk_size=2, keep=in_window))
    return [orjson.loads(line)["seq"] for line in text.splitlines()]


def reads(api, user, query):
    client = api(user)
    return {
        "list": page_seqs(client, query),
        "export": export_seqs(client, query),
        "csv": csv_seqs(user, query),
        "chunks of 2": chunked_seqs(user, query),
        "list, oldest first": list(selectors.filtered_entries(user, query)
                                   .order_by("seq").values_list("seq", flat=True)),
    }


@pytest.mark.parametrize("query", WINDOWS, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()))
def test_oversight_reads_exactly_the_windows_entries(scrambled, api, oversight_auditor, query):
    expected = in_window(scrambled, query)
    got = reads(api, oversight_auditor, query)
    assert got == {
        "list": expected[::-1],
        "export": expected,
        "csv": expected,
        "chunks of 2": expected,
        "list, oldest first": expected,
    }


@pytest.mark.parametrize("query", WINDOWS, ids=lambda q: ",".join(f"{k}={v}" for k, v in q.items()))
@pytest.mark.parametrize("auditor", ["us_auditor", "mx_auditor", "gt_auditor"])
def test_a_country_auditor_reads_the_same_with_and_without_the_seq_range(
        scrambled, api, request, monkeypatch, auditor, query):
    user = request.getfixturevalue(auditor)
    with_range = reads(api, user, query)
    unbounded(monkeypatch)
    without = reads(api, user, query)
    assert with_range == without
    # The gate still applies: some of the window's entries are not this auditor's.
    assert set(with_range["export"]) <= set(in_window(scrambled, query))


def test_the_windows_are_not_all_trivial(scrambled, api, us_auditor):
    """The cases above cut across seq order and the gate (else they would prove little)."""
    first = in_window(scrambled, WINDOWS[0])
    assert first == [1, 15]
    assert export_seqs(api(us_auditor), {"since": at(0), "until": at(31)}) != in_window(
        scrambled, {"since": at(0), "until": at(31)})


def test_the_statement_carries_the_seq_range_of_a_closed_window(scrambled, oversight_auditor):
    both = str(selectors.filtered_entries(oversight_auditor, WINDOWS[0]).query)
    assert both.count("MIN((") == 1 and both.count("MAX((") == 1
    # An open-ended window keeps the plain plan (its entries are at an end of the log).
    since = str(selectors.filtered_entries(oversight_auditor, {"since": at(15)}).query)
    until = str(selectors.filtered_entries(oversight_auditor, {"until": at(15)}).query)
    assert "MIN((" not in since + until and "MAX((" not in since + until
    plain = str(selectors.filtered_entries(oversight_auditor, {"actor": "x"}).query)
    assert "MIN((" not in plain and "MAX((" not in plain


def test_the_exports_resolve_the_range_once_and_test_the_times_on_the_rows(
        scrambled, oversight_auditor):
    """Chunked reads get the range's values (one query, now), not sub-selects run per chunk,
    and no occurred_at test in the statement (PostgreSQL would misjudge its rows)."""
    selectors.entries_in_chunks(oversight_auditor, {})  # the auditor's roles, read once
    with CaptureQueriesContext(connection) as untimed:
        selectors.entries_in_chunks(oversight_auditor, {"actor": "x"})
    with CaptureQueriesContext(connection) as timed:
        entries, in_window = selectors.entries_in_chunks(oversight_auditor, WINDOWS[0])
    assert len(timed) == len(untimed) + 1
    assert "MIN" in timed[-1]["sql"] and "MAX" in timed[-1]["sql"]
    statement = str(entries.query)
    assert "MIN((" not in statement and "occurred_at" not in statement.split("WHERE")[1]
    assert list(entries.values_list("seq", flat=True)) == list(range(1, 16))
    kept = [e.seq for e in entries if in_window(e.occurred_at)]
    assert kept == [1, 15]
    entries, in_window = selectors.entries_in_chunks(oversight_auditor, {"actor": "x"})
    assert in_window is None and "MIN((" not in str(entries.query)
    # An export bounds an open-ended window too (it reads the whole window): both sides, as
    # the entries stood when it was asked for.
    since, _ = selectors.entries_in_chunks(oversight_auditor, {"since": at(30)})
    assert '("audit_auditentry"."seq" >= 14 AND "audit_auditentry"."seq" <= 14)' in str(
        since.query)
    until, _ = selectors.entries_in_chunks(oversight_auditor, {"until": at(1)})
    assert '("audit_auditentry"."seq" >= 31 AND "audit_auditentry"."seq" <= 31)' in str(
        until.query)


def test_an_empty_window_exports_nothing_without_reading_rows(scrambled, oversight_auditor):
    entries, _ = selectors.entries_in_chunks(oversight_auditor, WINDOWS[5])
    assert list(entries) == []


def test_the_list_makes_as_many_queries_with_a_window_as_without(
        scrambled, api, oversight_auditor, django_assert_num_queries):
    client = api(oversight_auditor)
    actor = AuditEntry.objects.get(seq=15).actor
    with CaptureQueriesContext(connection) as plain:
        assert 15 in page_seqs(client, {"actor": actor})
    with django_assert_num_queries(len(plain)):
        assert page_seqs(client, WINDOWS[0]) == [15, 1]
