"""A stream of audited requests for the drills, and the count of their audit events.

Every request carries its own X-Request-ID, which the service writes into the request's
audit entries: the events expected are those of the requests the service answered, and the
events stored are the chain's entries with those ids. Lost = expected ids missing from the
chain; duplicated = an (id, action) chained more than once.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass

from tests.faults import services

# What each kind of request records when answered: {status: action}.
EXPECTED_ACTION = {
    "view": {200: "case.view"},
    "create": {201: "case.create"},
    "lookup": {200: "lookup.search", 503: "lookup.unavailable"},
}


@dataclass
class Answer:
    kind: str
    at: float
    status: int  # 0: no answer (connection refused or reset)
    content_type: str
    request_id: str
    body: bytes
    retry_after: str | None


class Stream:
    """`threads` clients sending a mix of audited requests until stopped."""

    def __init__(self, port: int, seeded: dict, *, threads: int = 3,
                 kinds=("view", "create", "lookup")):
        self.port, self.seeded, self.kinds = port, seeded, kinds
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(threads)]
        self.started = time.monotonic()

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _request(self, kind: str, n: int):
        tokens, cases = self.seeded["tokens"], self.seeded["cases"]
        if kind == "view":
            return "GET", f"/api/v1/cases/{cases['US']}/", tokens["us.investigator"], None
        if kind == "create":
            return "POST", "/api/v1/cases/", tokens["mx.investigator"], {
                "title": f"Drill case {n}", "summary": "made under a fault",
                "case_type": "smuggling"}
        return "POST", "/api/v1/lookup/", tokens["us.investigator"], {
            "identifier_type": "phone", "value": f"+52 55 {1000_0000 + n}"}

    def _run(self, index: int):
        for n in itertools.count(index * 1_000_000):
            if self._stop.is_set():
                return
            kind = self.kinds[n % len(self.kinds)]
            method, path, token, body = self._request(kind, n)
            request_id = uuid.uuid4().hex
            at = time.monotonic() - self.started
            try:
                status, headers, content = services.request(
                    self.port, method, path, token=token, body=body,
                    headers={"X-Request-ID": request_id}, timeout=15)
            except OSError:
                status, headers, content = 0, {}, b""
                time.sleep(0.05)
            self.answers.append(Answer(kind, at, status, headers.get("Content-Type", ""),
                                       request_id, content, headers.get("Retry-After")))

    def by_status(self) -> dict:
        return dict(sorted(collections.Counter(a.status for a in self.answers).items()))

    def failures(self) -> dict:
        """{(kind, status): count} of every answer that is not a success."""
        counts = collections.Counter(
            (a.kind, a.status) for a in self.answers if a.status not in (200, 201))
        return dict(sorted(counts.items()))


def expected_events(answers) -> dict[tuple[str, str], int]:
    """{(request id, action): 1} for every answered request that records an event."""
    expected = {}
    for answer in answers:
        action = EXPECTED_ACTION[answer.kind].get(answer.status)
        if action:
            expected[(answer.request_id, action)] = 1
    return expected


def stored_events(pg, request_ids) -> collections.Counter:
    rows = pg.query(
        "SELECT request_id, action FROM audit_auditentry WHERE request_id = ANY(%s)",
        list(request_ids),
    )
    return collections.Counter((rid, action) for rid, action in rows)


def wait_until_drained(pg, timeout: float = 60) -> float:
    """Seconds until the outbox is empty (the worker chained everything)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if pg.query("SELECT count(*) FROM audit_outboxevent")[0][0] == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"the outbox was not drained within {timeout:.0f} s")


def chain_facts(pg) -> dict:
    count, low, high = pg.query("SELECT count(*), min(seq), max(seq) FROM audit_auditentry")[0]
    return {"entries": count, "first_seq": low, "last_seq": high,
            "gapless": count == 0 or (low == 1 and high == count)}


def report(title: str, stream: Stream | None, expected: dict, stored: collections.Counter,
           **more) -> dict:
    """Print the drill's figures (pytest -s / -rP shows them) and return them."""
    lost = [key for key in expected if stored.get(key, 0) == 0]
    duplicated = [key for key, n in stored.items() if n > 1]
    figures = {
        "requests": len(stream.answers) if stream else 0,
        "by_status": stream.by_status() if stream else {},
        "failures": {f"{k} {s}": n for (k, s), n in stream.failures().items()} if stream else {},
        "events_expected": len(expected),
        "events_stored": sum(1 for key in expected if stored.get(key)),
        "lost": len(lost),
        "duplicated": len(duplicated),
        **more,
    }
    print(f"\n{title}: {json.dumps(figures)}")
    return figures
