"""Throwaway services for the fault drills and the health-probe tests.

Each drill starts its own PostgreSQL cluster (initdb into a temp folder, its own loopback
port), its own redis-server, gunicorn (2 workers) and a Celery worker with beat, all with
production settings, and stops what it started. The machine's PostgreSQL (5432) and Redis
(6379) are never touched. The database schema is migrated once per test session into a
template cluster, whose data folder each drill copies (a second, not a migration).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def missing_binaries() -> list[str]:
    return [name for name in ("initdb", "pg_ctl", "redis-server") if shutil.which(name) is None]


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _wait(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class Postgres:
    """A PostgreSQL cluster of our own on a free loopback port."""

    def __init__(self):
        # A folder of its own in /tmp: pytest's are private to root, and the server runs as
        # the postgres user when we are root.
        self.root = Path(tempfile.mkdtemp(prefix="wgx-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")

    def init(self) -> Postgres:
        subprocess.run(
            _as_postgres(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "-E", "UTF8", "--no-sync"]),
            check=True, capture_output=True, timeout=60,
        )
        return self

    def copy_from(self, template: Path) -> Postgres:
        shutil.copytree(template, self.data, symlinks=True)
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(self.data)], check=True)
        return self

    def start(self) -> Postgres:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c max_connections=60")
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log),
                          "-w", "-t", "30", "start"]),
            check=True, capture_output=True, timeout=40,
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"]),
            capture_output=True, timeout=40,
        )

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def query(self, sql: str, *params):
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()


class Redis:
    """A redis-server of our own on a free loopback port, no persistence."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> Redis:
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait(lambda: _port_open(self.port), 10, "redis-server")
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@dataclass
class Process:
    """A child process in its own process group (so a kill reaches its children too)."""

    argv: list[str]
    env: dict
    log: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> Process:
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(10)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(10)


def production_env(root: Path, *, database_url: str, broker_url: str, **extra) -> dict:
    """The environment of `make serve-prod`: DEBUG=False, real secrets, loopback hosts."""
    from core import keyring

    root.mkdir(parents=True, exist_ok=True)
    keyring_path = root / "keyring.json"
    if not keyring_path.exists():
        keyring.write(keyring_path, keyring.generate())
    drop = {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "SECRET_KEY",
            "SECRET_KEY_FILE", "WG_KEYRING", "DEBUG", "DJANGO_SETTINGS_MODULE", "WG_STORAGE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        DJANGO_SETTINGS_MODULE="workinggroup.settings",
        DEBUG="False",
        SECRET_KEY="drill-" + "k" * 50,
        WG_KEYRING=str(keyring_path),
        WG_VAR_DIR=str(root / "var"),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    result = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def web(env: dict, root: Path, *, workers: int = 2) -> tuple[Process, int]:
    port = free_port()
    proc = Process(
        [str(BIN / "gunicorn"), "workinggroup.wsgi", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--no-control-socket", "--timeout", "30",
         "--graceful-timeout", "5"],
        env, root / f"web-{port}.log",
    ).start()
    _wait(lambda: _live(port), 30, "gunicorn")
    return proc, port


# A supervisor's restart loop (systemd's Restart=always, RestartSec=1): Celery 5.7's worker
# exits with "Unrecoverable error" when its Redis connection is cut (kombu's Redis transport
# fails while restoring unacked messages), so production runs it supervised, as here.
SUPERVISED = 'while :; do echo "supervisor: worker starting"; "$@"; sleep 1; done'


def worker(env: dict, root: Path, *, beat: bool = True, name: str = "worker",
           supervised: bool = False) -> Process:
    argv = [str(BIN / "celery"), "-A", "workinggroup", "worker", "--loglevel=WARNING",
            "--concurrency=1", "--without-gossip", "--without-mingle", "-n",
            f"{name}-{uuid.uuid4().hex[:6]}@%h"]
    if beat:
        argv += ["--beat", "--schedule", str(root / f"{name}-beat-schedule")]
    if supervised:
        argv = ["sh", "-c", SUPERVISED, "supervise", *argv]
    return Process(argv, env, root / f"{name}.log").start()


def worker_starts(root: Path, name: str = "worker") -> int:
    """How many times the supervisor started the worker."""
    return (root / f"{name}.log").read_text(errors="replace").count("supervisor: worker starting")


def _live(port: int) -> bool:
    try:
        return request(port, "GET", "/healthz/live", timeout=1)[0] == 200
    except OSError:
        return False


def request(port: int, method: str, path: str, *, token: str | None = None, body=None,
            headers: dict | None = None, timeout: float = 10):
    """(status, headers dict, body bytes) of one request to 127.0.0.1:port."""
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Token {token}"
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def upload(port: int, token: str, case_id: str, data: bytes, filename: str = "evidence.pdf"):
    """POST one file as multipart to the case's attachments; (status, headers, body)."""
    boundary = f"wgx{uuid.uuid4().hex}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n").encode() \
        + data + f"\r\n--{boundary}--\r\n".encode()
    return request(port, "POST", f"/api/v1/cases/{case_id}/attachments/", token=token,
                   body=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


# Members, tokens and cases for a drill, made through the services in the drill's database.
SEED = """
import json
from audit.context import system_actor
from cases import services as cases
from workinggroup import members
out = {"tokens": {}, "cases": {}}
with system_actor("fault drill seed"):
    for cc in ("US", "MX"):
        for role in ("investigator", "liaison", "auditor"):
            name = f"{cc.lower()}.{role}"
            user = members.member_create(username=name, password="drill-Password-2026",
                                         roles=[role], country_code=cc,
                                         email=f"{name}@drill.invalid")
            out["tokens"][name] = members.token_issue(user=user, actor=user, name="drill")[1]
            if role == "investigator":
                case = cases.case_create(actor=user, title=f"{cc} drill case",
                                         summary="fault drill", case_type="trafficking")
                out["cases"][cc] = str(case.pk)
print("SEED" + json.dumps(out))
"""


def seed(env: dict) -> dict:
    out = manage(env, "shell", "-c", SEED)
    return json.loads(out.split("SEED", 1)[1])
