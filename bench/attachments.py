"""Benchmark: upload and download of a large evidence file through the real HTTP stack.

    .venv/bin/python bench/attachments.py [--size-mib 1024] [--dir bench/out/attachments]

Starts gunicorn (2 sync workers) on 127.0.0.1 with bench/settings.py, which adds a plain,
unencrypted FileField endpoint (bench only, never shipped), and measures in one run:

- plain upload:      POST the file to /bench/plain/ (Django's stock upload handlers: memory,
                     then a temporary file that the FileField moves into storage);
- encrypted upload:  POST the same bytes to /api/v1/cases/{id}/attachments/;
- download:          GET /api/v1/attachments/{id}/content/ (decrypted, verified);
- floor:             SHA-256 + AES-256-GCM (cases.crypto.StreamEncryptor) + a disk write of the
                     same bytes in this one process, no HTTP; its parts are timed alone too.

Last, one bit of the stored object is flipped and the download must break off (an
IncompleteRead after the segments before it), never complete.

The client streams the request body from a generator with a Content-Length (never 1 GiB in
memory). Server memory is each gunicorn worker's peak RSS (VmHWM, reset through
/proc/PID/clear_refs before every phase, and a 20 ms VmRSS poll as a cross-check).
Goals (issue 6): encrypted upload >= 0.8 x plain upload; download >= 0.5 x floor; worker
peak RSS < 100 MiB. Prints a table and writes DIR/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
BLOCK = MIB  # the client's send and receive size


# --- the file ----------------------------------------------------------------------------------


def make_block() -> bytes:
    return os.urandom(BLOCK)


def content(size: int, block: bytes):
    """The benchmark file: an MP4 `ftyp` box, then random bytes (repeated 1 MiB blocks)."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    first = head + block[len(head):]
    sent = 0
    while sent < size:
        piece = first if sent == 0 else block
        piece = piece[: size - sent]
        sent += len(piece)
        yield piece


def sha256_of(size: int, block: bytes) -> str:
    digest = hashlib.sha256()
    for piece in content(size, block):
        digest.update(piece)
    return digest.hexdigest()


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int, field: str) -> int:
    """A kB field of /proc/PID/status, in bytes (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """gunicorn, 2 sync workers, on a free loopback port."""

    def __init__(self, env: dict, log: Path):
        self.port = free_port()
        self.log = open(log, "w")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [str(gunicorn), "workinggroup.wsgi:application", "--workers", "2",
             "--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "900", "--chdir", str(ROOT)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                if len(self.workers()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start; see {log}")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def reset_peaks(self) -> bool:
        ok = True
        for pid in self.workers():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                ok = False
        return ok

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Measure:
    """Per phase: wall time, the busiest worker's CPU time, peak RSS (VmHWM and polled)."""

    def __init__(self, server: Server, name: str):
        self.server, self.name = server, name

    def __enter__(self):
        self.pids = self.server.workers()
        self.server.reset_peaks()
        self.cpu0 = {pid: cpu_seconds(pid) for pid in self.pids}
        self.polled = 0
        self.stop = threading.Event()
        self.poller = threading.Thread(target=self._poll, daemon=True)
        self.poller.start()
        self.t0 = time.perf_counter()
        return self

    def _poll(self):
        while not self.stop.wait(0.02):
            for pid in self.pids:
                self.polled = max(self.polled, proc_status(pid, "VmRSS"))

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.stop.set()
        self.poller.join()
        self.hwm = max(proc_status(pid, "VmHWM") for pid in self.pids)
        self.cpu = max(cpu_seconds(pid) - self.cpu0[pid] for pid in self.pids)


# --- the client --------------------------------------------------------------------------------


def post_file(port, path, headers, size, block, filename):
    boundary = f"bench{secrets.token_hex(8)}"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    conn.putrequest("POST", path)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    conn.send(head)
    for piece in content(size, block):
        conn.send(piece)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 201:
        raise RuntimeError(f"POST {path}: {response.status} {body[:300]!r}")
    return json.loads(body)


def get_file(port, path, headers, *, verify: bool):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {response.read()[:300]!r}")
    digest, received, buffer = hashlib.sha256(), 0, bytearray(BLOCK)
    view = memoryview(buffer)
    while n := response.readinto(buffer):
        received += n
        if verify:
            digest.update(view[:n])
    conn.close()
    return received, digest.hexdigest() if verify else None


def check_cut(port, created, auth) -> dict:
    """Flip one bit deep in the stored object: the download must break, not complete."""
    from django.core.files.storage import default_storage

    from cases.models import Attachment

    path = default_storage.path(Attachment.objects.get(pk=created["id"]).storage_name)
    offset = 89 + 40 * (64 * 1024 + 16) + 7  # inside segment 40, after ~2.5 MiB were sent
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 1]))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    conn.request("GET", created["content_url"], headers=auth)
    response = conn.getresponse()
    try:
        received = len(response.read())
        completed = True
    except http.client.IncompleteRead as exc:
        received, completed = len(exc.partial), False
    conn.close()
    assert not completed, "a tampered download completed"
    return {"status": response.status, "bytes_received": received, "completed": completed}


# --- the floor ---------------------------------------------------------------------------------


def floor_runs(size, block, folder: Path) -> dict:
    """Seconds for SHA-256 alone, AES-GCM alone, a disk write alone, and all three together."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from cases.crypto import StreamEncryptor

    out = {}
    t0 = time.perf_counter()
    digest = hashlib.sha256()
    for piece in content(size, block):
        digest.update(piece)
    out["sha256"] = time.perf_counter() - t0

    aead, nonce, seg = AESGCM(AESGCM.generate_key(bit_length=256)), os.urandom(12), 64 * 1024
    t0 = time.perf_counter()
    for piece in content(size, block):
        for i in range(0, len(piece), seg):
            aead.encrypt(nonce, piece[i:i + seg], b"")
    out["aes_gcm"] = time.perf_counter() - t0

    target = folder / "floor.bin"
    t0 = time.perf_counter()
    with open(target, "wb") as fh:
        for piece in content(size, block):
            fh.write(piece)
    out["disk_write"] = time.perf_counter() - t0
    target.unlink()

    t0 = time.perf_counter()
    enc = StreamEncryptor(attachment_id=uuid.uuid4(), kek=os.urandom(32), key_id="bench")
    with open(target, "wb") as fh:
        fh.write(enc.header_bytes)
        for piece in content(size, block):
            fh.write(enc.update(piece))
        fh.write(enc.finish())
    out["floor"] = time.perf_counter() - t0
    target.unlink()
    return out


# --- setup -------------------------------------------------------------------------------------


def prepare(var_dir: Path, max_bytes: int) -> tuple[dict, str, str]:
    """Environment for both processes, a migrated database, a case and an API token."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "WG_VAR_DIR": str(var_dir),
        "ATTACHMENT_MAX_BYTES": str(max_bytes),
        "DEBUG": "True",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "WG_KEYRING"):
        env.pop(name, None)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    from workinggroup import members
    from workinggroup.models import User

    user = User.objects.filter(username="bench.investigator").first() or members.member_create(
        username="bench.investigator", password=secrets.token_urlsafe(24),
        roles=["investigator"], country_code="US",
    )
    _, token = members.token_issue(user=user, actor=None, hours=4)
    return env, token, str(_bench_case(user).pk)


def _bench_case(user):
    """A US case opened through the service, with the owner country's grants."""
    from cases import services

    return services.case_create(actor=user, title="Benchmark", case_type="trafficking",
                                summary="attachments bench")


# --- main --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", default=str(ROOT / "bench" / "out" / "attachments"))
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per phase; the fastest counts (the machine is shared)")
    parser.add_argument("--keep", action="store_true", help="keep the bench folder")
    args = parser.parse_args()
    size = args.size_mib * MIB
    folder = Path(args.dir).resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env, token, case_id = prepare(folder / "var", max_bytes=size + MIB)
    block = make_block()
    expected = sha256_of(size, block)
    auth = {"Authorization": f"Token {token}"}

    server = Server(env, folder / "gunicorn.log")
    results = {}
    try:
        for _ in range(4):  # warm both workers: imports, keyring, first queries
            post_file(server.port, "/bench/plain/", {}, 1000, block, "warm.mp4")
            warm = post_file(server.port, f"/api/v1/cases/{case_id}/attachments/", auth,
                             1000, block, "warm.mp4")
            get_file(server.port, warm["content_url"], auth, verify=False)
        idle = max(proc_status(pid, "VmRSS") for pid in server.workers())

        runs = {"plain upload": [], "encrypted upload": [], "download": []}
        floors = []
        for _ in range(args.repeat):
            with Measure(server, "plain upload") as m:
                post_file(server.port, "/bench/plain/", {}, size, block, "evidence.mp4")
            runs[m.name].append(m)
            with Measure(server, "encrypted upload") as m:
                created = post_file(server.port, f"/api/v1/cases/{case_id}/attachments/",
                                    auth, size, block, "evidence.mp4")
            runs[m.name].append(m)
            assert created["size"] == size and created["sha256"] == expected, created
            with Measure(server, "download") as m:
                received, _ = get_file(server.port, created["content_url"], auth,
                                       verify=False)
            runs[m.name].append(m)
            assert received == size, received
            floors.append(floor_runs(size, block, folder))
        got, digest = get_file(server.port, created["content_url"], auth, verify=True)
        assert (got, digest) == (size, expected), "downloaded bytes differ"
        cut = check_cut(server.port, created, auth)
    finally:
        server.stop()
    plain, upload, download = (min(r, key=lambda m: m.seconds) for r in runs.values())
    floor = {name: min(f[name] for f in floors) for name in floors[0]}

    def rate(seconds):
        return size / seconds / 1e6  # MB/s

    phases = {m.name: m for m in (plain, upload, download)}
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "size_bytes": size,
        "cpus": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "worker_idle_rss_mib": round(idle / MIB, 1),
        "repeat": args.repeat,
        "all_runs_seconds": {name: [round(m.seconds, 2) for m in r] for name, r in runs.items()},
        "phases": {
            name: {"seconds": round(m.seconds, 2), "MB_per_s": round(rate(m.seconds)),
                   "worker_cpu_seconds": round(m.cpu, 2),
                   "worker_peak_rss_mib": round(m.hwm / MIB, 1),
                   "worker_polled_rss_mib": round(m.polled / MIB, 1)}
            for name, m in phases.items()
        },
        "floor": {name: {"seconds": round(s, 2), "MB_per_s": round(rate(s))}
                  for name, s in floor.items()},
        "upload_threaded": os.environ.get("ATTACHMENT_UPLOAD_THREADED", "True"),
    }
    results["tampered_download"] = cut
    results["ratios"] = {
        "encrypted_upload_vs_plain_upload": round(plain.seconds / upload.seconds, 2),
        "download_vs_floor": round(floor["floor"] / download.seconds, 2),
    }
    # Each repetition runs plain, encrypted, download and floor back to back, so its own
    # ratios see one state of a shared machine; their median is the steadier figure.
    results["ratios_per_run"] = {
        "encrypted_upload_vs_plain_upload": [
            round(p.seconds / e.seconds, 2)
            for p, e in zip(runs["plain upload"], runs["encrypted upload"], strict=True)
        ],
        "download_vs_floor": [
            round(f["floor"] / d.seconds, 2) for f, d in zip(floors, runs["download"],
                                                              strict=True)
        ],
    }
    peak = max(m.hwm for r in runs.values() for m in r) / MIB
    results["worker_peak_rss_mib_any_run"] = round(peak, 1)
    results["goals_met"] = {
        "upload >= 0.8 x plain": results["ratios"]["encrypted_upload_vs_plain_upload"] >= 0.8,
        "download >= 0.5 x floor": results["ratios"]["download_vs_floor"] >= 0.5,
        "worker peak RSS < 100 MiB": peak < 100,
    }
    (folder / "results.json").write_text(json.dumps(results, indent=2))

    print(f"{args.size_mib} MiB, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"gunicorn 2 sync workers, idle worker RSS {idle / MIB:.0f} MiB, "
          f"fastest of {args.repeat} runs")
    print(f"{'phase':<18}{'s':>7}{'MB/s':>8}{'worker CPU s':>14}{'peak RSS MiB':>14}")
    for name, m in phases.items():
        print(f"{name:<18}{m.seconds:>7.2f}{rate(m.seconds):>8.0f}{m.cpu:>14.2f}"
              f"{m.hwm / MIB:>14.1f}")
    for name, seconds in floor.items():
        print(f"{'floor: ' + name:<18}{seconds:>7.2f}{rate(seconds):>8.0f}")
    for name, value in results["ratios"].items():
        per_run = results["ratios_per_run"][name]
        print(f"{name}: {value} (fastest runs); per run {per_run}, "
              f"median {statistics.median(per_run)}")
    print(f"tampered object: HTTP {cut['status']}, {cut['bytes_received']} bytes, then the "
          f"connection was cut (complete: {cut['completed']})")
    for goal, met in results["goals_met"].items():
        print(f"{'met ' if met else 'MISSED'}  {goal}")
    if not args.keep:
        shutil.rmtree(folder / "var" / "attachments", ignore_errors=True)
    return 0 if all(results["goals_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
