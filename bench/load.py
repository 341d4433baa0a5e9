"""Load: the highest open-loop arrival rate a production-shaped deployment keeps p99 < 250 ms.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wgx_load_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/load.py [--start 10] [--factor 1.25] [--duration 20] [--smoke]

The database is dropped and re-created (its name must contain "bench"). The deployment is
the one `make serve-prod` runs: gunicorn with 2 sync workers and a Celery worker with beat,
DEBUG=False, on 127.0.0.1. The members and their tokens, 1,500 cases per country, a few
attachments and identifiers are made first; investigators are many, so that none passes
the hourly lookup limit.

Arrivals are open-loop: request i is due at i / rate whatever happened to the others (a
pool of client threads sends each at its time), and latency counts from the due time, so a
server falling behind shows as latency instead of as a slower client. The mix:

  case list 15%, case search 10%, case page 30%, file download 5%, share request 5% and its
  decision 5%, lookup 15%, audit list 15%

Each step runs `--duration` seconds at one rate, starting at `--start` and multiplying by
`--factor` while p99 < 250 ms and no request failed; the last passing rate is the result. It
prints p50/p95/p99 per endpoint at that rate, the outbox lag seen on /healthz meanwhile, and
the machine's load.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import itertools
import json
import os
import queue
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GOAL_P99_MS = 250
MIX = [("case list", 15), ("case search", 10), ("case page", 30), ("file download", 5),
       ("share request", 5), ("share decision", 5), ("lookup", 15), ("audit list", 15)]
CASES_PER_COUNTRY = 300


def environment(workdir: Path) -> None:
    """Production settings on loopback, with throwaway secrets: as `make serve-prod`."""
    from core import keyring

    keyring_path = workdir / "keyring.json"
    keyring.write(keyring_path, keyring.generate())
    os.environ.update(DEBUG="False", SECRET_KEY=secrets.token_urlsafe(50),
                      WG_KEYRING=str(keyring_path), WG_VAR_DIR=str(workdir / "var"),
                      ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING")


def seed(investigators_per_country: int, cases_per_country: int, us_cases: int) -> dict:
    """Members (tokens), cases, identifiers; through the services, audited as in life.

    The US gets `us_cases` (at least `cases_per_country`): every share request of the run
    offers a fresh US case to Mexico.
    """
    from django.contrib.auth.hashers import make_password

    from audit.context import system_actor
    from cases import services as cases
    from workinggroup import members
    from workinggroup.models import Country, User

    password = make_password(None)  # unusable: the bench signs in with tokens only
    tokens = collections.defaultdict(list)

    def member(username, country, role):
        user = User.objects.create(username=username, password=password,
                                   country=Country.objects.get(code=country))
        members.sync_member_groups(user, [role])
        tokens[f"{country} {role}"].append(members.token_issue(user=user, actor=user,
                                                               name="load")[1])
        return user

    state = {"cases": {}}
    with system_actor("bench/load.py seed"):
        for cc in ("US", "GT", "MX"):
            people = [member(f"load.{cc.lower()}.inv{n}", cc, "investigator")
                      for n in range(investigators_per_country)]
            member(f"load.{cc.lower()}.liaison", cc, "liaison")
            member(f"load.{cc.lower()}.auditor", cc, "auditor")
            made = []
            for n in range(us_cases if cc == "US" else cases_per_country):
                words = "Tapachula recruitment" if n % 100 == 0 else "Border crossing ring"
                case = cases.case_create(actor=people[n % len(people)],
                                         title=f"{cc} network {n}", summary=words,
                                         case_type="trafficking")
                made.append(str(case.pk))
            state["cases"][cc] = made
    state["tokens"] = dict(tokens)
    return state


class Server:
    """gunicorn (2 workers) and a Celery worker with beat, in their own process groups."""

    def __init__(self, workdir: Path, port: int):
        self.port = port
        log = (workdir / "server.log").open("ab")
        self.procs = [
            subprocess.Popen([str(BIN / "gunicorn"), "workinggroup.wsgi", "--workers", "2",
                              "--bind", f"127.0.0.1:{port}", "--no-control-socket"],
                             cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True),
            subprocess.Popen([str(BIN / "celery"), "-A", "workinggroup", "worker", "--beat",
                              "--loglevel=WARNING", "--concurrency=2", "--schedule",
                              str(workdir / "beat-schedule")],
                             cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True),
        ]
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                if call(port, "GET", "/healthz/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not start; see {workdir / 'server.log'}")

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


_local = threading.local()


def call(port, method, path, token=None, body=None, content_type="application/json"):
    """(status, body) over this thread's kept-alive connection."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = content_type
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        _local.conn = None
        raise


class Workload:
    """What each kind of request sends; tokens rotate so no member passes a limit."""

    def __init__(self, state: dict, attachments: list[str]):
        self.state, self.attachments = state, attachments
        self.pages = max(1, len(state["cases"]["GT"]) // 50)  # an investigator's own cases
        self.rotation = {key: itertools.cycle(values) for key, values in state["tokens"].items()}
        self.offerable = iter(state["cases"]["US"][1:])
        self.pending: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.rng = random.Random(7)

    def token(self, who):
        with self.lock:
            return next(self.rotation[who])

    def request(self, kind):
        cc = self.rng.choice(("US", "GT", "MX"))
        if kind == "case list":
            return "GET", f"/api/v1/cases/?page={self.rng.randint(1, self.pages)}", \
                self.token(f"{cc} investigator"), None
        if kind == "case search":
            return "GET", "/api/v1/cases/?q=tapachula", self.token(f"{cc} investigator"), None
        if kind == "case page":
            case = self.rng.choice(self.state["cases"][cc])
            return "GET", f"/api/v1/cases/{case}/", self.token(f"{cc} investigator"), None
        if kind == "file download":
            return "GET", f"/api/v1/attachments/{self.rng.choice(self.attachments)}/content/", \
                self.token("US investigator"), None
        if kind == "share decision":
            try:
                pending = self.pending.get_nowait()
                return "POST", f"/api/v1/share-requests/{pending}/approve/", \
                    self.token("US liaison"), {"note": "approved under load"}
            except queue.Empty:
                kind = "share request"
        if kind == "share request":
            with self.lock:
                case = next(self.offerable)
            return "POST", "/api/v1/share-requests/", self.token("US investigator"), {
                "case": case, "recipient_country": "MX", "scope": "summary",
                "justification": "Joint operation under load",
                "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                            time.gmtime(time.time() + 30 * 86400))}
        if kind == "lookup":
            return "POST", "/api/v1/lookup/", self.token(f"{cc} investigator"), {
                "identifier_type": "passport", "value": f"P{self.rng.randint(0, 10**8):09d}"}
        return "GET", "/api/v1/audit/entries/?page_size=50", self.token(f"{cc} auditor"), None

    def answered(self, kind, status, body):
        if kind == "share request" and status == 201:
            self.pending.put(json.loads(body)["id"])


def run_step(port, workload, rate, duration, threads=48):
    """One open-loop step: {kind: [latency ms]}, errors, the outbox lag seen meanwhile."""
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    rng = random.Random(rate)
    due: queue.Queue = queue.Queue()
    latencies, errors = collections.defaultdict(list), collections.Counter()
    broken: list[str] = []
    start = time.monotonic() + 0.2
    total = int(rate * duration)
    for i in range(total):
        due.put((start + i / rate, rng.choice(kinds)))

    def client():
        while True:
            try:
                at, kind = due.get_nowait()
            except queue.Empty:
                return
            wait = at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                method, path, token, body = workload.request(kind)
            except Exception as exc:  # the bench's own fault: stop, never drop it unseen
                broken.append(f"{kind}: {exc!r}")
                return
            try:
                status, content = call(port, method, path, token, body)
            except (OSError, http.client.HTTPException):
                status, content = 0, b""
            latencies[kind].append((time.monotonic() - at) * 1000)
            if status >= 400 or status == 0:
                errors[(kind, status)] += 1
            workload.answered(kind, status, content)

    lag = {"max": 0.0}
    stop = threading.Event()

    def watch():
        while not stop.wait(1):
            try:
                status, body = call_fresh(port, "/healthz")
                audit = json.loads(body)["components"]["audit"]
                lag["max"] = max(lag["max"], audit.get("lag_seconds") or 0.0)
            except (OSError, ValueError, KeyError):
                pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    pool = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    stop.set()
    watcher.join()
    if broken:
        raise SystemExit(f"the bench failed to build {len(broken)} request(s), "
                         f"first: {broken[0]}")
    return latencies, errors, lag["max"]


def call_fresh(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def pct(samples, p):
    if len(samples) < 2:
        return samples[0] if samples else 0.0
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def upload_files(port, state, count=8):
    ids = []
    token = state["tokens"]["US investigator"][0]
    for n in range(count):
        boundary = uuid.uuid4().hex
        data = b"%PDF-1.7\n" + os.urandom(200_000)
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"evidence-{n}.pdf\"\r\n\r\n").encode() + data \
            + f"\r\n--{boundary}--\r\n".encode()
        status, content = call(port, "POST",
                               f"/api/v1/cases/{state['cases']['US'][0]}/attachments/", token,
                               body, f"multipart/form-data; boundary={boundary}")
        if status != 201:
            raise SystemExit(f"upload failed: {status} {content[:200]}")
        ids.append(json.loads(content)["id"])
    return ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", type=float, default=10, help="first arrival rate (req/s)")
    parser.add_argument("--factor", type=float, default=1.25)
    parser.add_argument("--duration", type=float, default=20, help="seconds per rate")
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument("--smoke", action="store_true", help="tiny: 2 steps of 2 s, few rows")
    args = parser.parse_args()
    if args.smoke:
        args.start, args.duration, args.max_steps = 4, 2, 2
    cases = 40 if args.smoke else CASES_PER_COUNTRY
    sys.path.insert(0, str(ROOT))
    workdir = Path(tempfile.mkdtemp(prefix="wgx-load-"))
    environment(workdir)
    from bench import _setup

    name = _setup.configure(need_broker=True)
    requests = sum(args.start * args.factor ** step * args.duration
                   for step in range(args.max_steps))  # at most, if no step is over
    investigators = max(3, int(requests * 0.15 / 3 / 50) + 1)  # < 50 lookups each per hour
    offers = int(requests * 0.10) + 50  # share requests, and decisions when none is pending
    t0 = time.perf_counter()
    state = seed(investigators, cases, us_cases=max(cases, offers + 1))
    print(f"database {name}: {sum(map(len, state['cases'].values()))} cases, "
          f"{3 * investigators} investigators (seeded in {time.perf_counter() - t0:.0f} s)")
    from django.db import connections

    connections.close_all()
    server = Server(workdir, _free_port())
    try:
        workload = Workload(state, upload_files(server.port, state))
        rate, best, knee = args.start, None, False
        for _ in range(args.max_steps):
            latencies, errors, lag = run_step(server.port, workload, rate, args.duration)
            every = [ms for samples in latencies.values() for ms in samples]
            p99 = pct(every, 99)
            ok = p99 < GOAL_P99_MS and not errors
            print(f"rate {rate:6.1f}/s: {len(every)} requests, p50 {pct(every, 50):6.1f} ms, "
                  f"p99 {p99:7.1f} ms, errors {dict(errors) or 0}, outbox lag max {lag:.1f} s"
                  f"  {'ok' if ok else 'over'}")
            if not ok:
                knee = True
                break
            best = (rate, latencies, lag)
            rate *= args.factor
        if best is None:
            print(f"no rate kept p99 under {GOAL_P99_MS} ms with no errors")
        else:
            rate, latencies, lag = best
            print(f"\nhighest rate with p99 < {GOAL_P99_MS} ms and no errors: {rate:.1f} req/s "
                  f"(outbox lag at most {lag:.1f} s)")
            if not knee:
                print("every rate tried passed: the limit is above it (raise --max-steps "
                      "or --start to find it)")
            print(f"{'endpoint':<16}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
            for kind, _ in MIX:
                samples = latencies.get(kind, [])
                print(f"{kind:<16}{len(samples):>6}{pct(samples, 50):>9.1f}"
                      f"{pct(samples, 95):>9.1f}{pct(samples, 99):>9.1f}")
        print(f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        server.stop()


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    main()
