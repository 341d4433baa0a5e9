"""A stand-alone C2SP tlog-witness: one country's witness of the audit log.

Run it outside the service's hosts and database, one per country:

    python manage.py run_witness --name mx-witness --state /var/lib/wgx-witness --port 7380 \\
        --trust-log "<the log's vkey>"            # or: python -m audit.witness_server ...

It needs only the standard library, `cryptography` and two pure modules of this package
(audit.merkle, audit.notes); it never imports Django or touches the service's database.

State directory (created on first run, mode 0700):
  witness.key   the witness's Ed25519 private key (base64, mode 0600), generated on first run
  logs.json     the logs it trusts: {origin: [vkey, ...]}; an origin is added deliberately,
                by --trust-log (a restored log's new epoch is a new origin, accepted the same way)
  state.json    per origin the latest cosigned checkpoint (size, root, the cosigned note),
                replaced atomically (write, fsync, rename, fsync the directory)

HTTP:
  POST /add-checkpoint   C2SP tlog-witness: "old <size>", consistency proof lines, a blank
                         line, the signed checkpoint. 200 + cosignature line; 400 malformed or
                         old > size; 403 no trusted signature; 404 unknown origin; 409 old size
                         is not ours (body "<our size>\\n", text/x.tlog.size) or same size and
                         another root; 422 the consistency proof does not verify.
  GET /checkpoint?origin=<origin>   (extension, for the log's verifier and for auditors) the
                         latest checkpoint this witness cosigned for the origin, with the log's
                         signature and this witness's cosignature; 404 when none.
  GET /                  the witness's name and vkey.
"""

import argparse
import base64
import binascii
import json
import logging
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import merkle, notes

log = logging.getLogger("wgx.witness")

MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63


class Refused(Exception):
    """An add-checkpoint request refused with an HTTP status."""

    def __init__(self, status: int, message: str, body: str | None = None):
        super().__init__(message)
        self.status, self.body = status, body


def _atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


class Witness:
    """The witness's key, trusted logs and latest cosigned checkpoints, kept in `state_dir`."""

    def __init__(self, name: str, state_dir, clock=time.time):
        notes.vkey(name, notes.SIG_COSIGNATURE_V1, b"\0" * 32)  # checks the name
        self.name, self.dir, self.clock = name, Path(state_dir), clock
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock = threading.Lock()  # check-then-persist is atomic (the spec's race)
        key_path = self.dir / "witness.key"
        if not key_path.exists():
            raw = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            _atomic_write(key_path, base64.b64encode(raw))
        self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(key_path.read_bytes()))
        self.logs = self._read_json("logs.json")
        self.state = self._read_json("state.json")

    @property
    def vkey(self) -> str:
        return notes.vkey(self.name, notes.SIG_COSIGNATURE_V1, notes.public_bytes(self.key))

    def _read_json(self, name: str) -> dict:
        path = self.dir / name
        return json.loads(path.read_text()) if path.exists() else {}

    def trust_log(self, log_vkey: str) -> str:
        """Accept checkpoints signed by this log key (its name is the log's origin)."""
        verifier = notes.parse_vkey(log_vkey)
        if verifier.sig_type != notes.SIG_ED25519:
            raise notes.NoteError("a log key is an Ed25519 note key (type 0x01)")
        with self._lock:
            keys = self.logs.setdefault(verifier.name, [])
            if log_vkey not in keys:
                keys.append(log_vkey)
                _atomic_write(self.dir / "logs.json", json.dumps(self.logs, indent=1).encode())
        return verifier.name

    def latest(self, origin: str) -> dict | None:
        return self.state.get(origin)

    def add_checkpoint(self, request: bytes) -> str:
        """Handle one add-checkpoint body; returns the cosignature line or raises Refused."""
        old, proof, note = _parse_request(request)
        try:
            body, signatures = notes.split_note(note)
            checkpoint = notes.parse_checkpoint(body)
        except notes.NoteError as exc:
            raise Refused(400, f"malformed checkpoint: {exc}") from None
        keys = self.logs.get(checkpoint.origin)
        if not keys:  # trusted since this process started (run_witness --trust-log ... --no-serve)?
            self.logs = self._read_json("logs.json")
            keys = self.logs.get(checkpoint.origin)
        if not keys:
            raise Refused(404, f"unknown log origin {checkpoint.origin!r}")
        if not any(notes.note_signed_by(body, signatures, notes.parse_vkey(k)) for k in keys):
            raise Refused(403, "no signature on the checkpoint verifies with a trusted log key")
        if old > checkpoint.size:
            raise Refused(400, f"old size {old} exceeds the checkpoint's size {checkpoint.size}")
        with self._lock:
            latest = self.state.get(checkpoint.origin)
            size = latest["size"] if latest else 0
            if old != size:
                raise Refused(409, f"old size {old} is not {size}", f"{size}\n")
            if latest and checkpoint.size == size:
                if base64.b64decode(latest["root"]) != checkpoint.root:
                    log.warning("FORK: %s shows two trees of size %d", checkpoint.origin, size)
                    raise Refused(409, "same size, different root hash", f"{size}\n")
            elif latest:
                try:
                    merkle.verify_consistency(
                        size, checkpoint.size, base64.b64decode(latest["root"]),
                        checkpoint.root, proof,
                    )
                except merkle.ProofError as exc:
                    log.warning("INCONSISTENT checkpoint from %s: %s\n%s",
                                checkpoint.origin, exc, note)
                    raise Refused(422, f"consistency proof does not verify: {exc}") from None
            elif proof:
                raise Refused(422, "the proof from size 0 must be empty")
            cosignature = notes.cosign(body, self.name, self.key, int(self.clock()))
            self.state[checkpoint.origin] = {
                "size": checkpoint.size,
                "root": base64.b64encode(checkpoint.root).decode(),
                "note": note + cosignature.line,
            }
            _atomic_write(self.dir / "state.json", json.dumps(self.state, indent=1).encode())
        return cosignature.line


def _parse_request(request: bytes) -> tuple[int, list[bytes], str]:
    try:
        text = request.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Refused(400, "no blank line after the consistency proof")
    lines = head.split("\n")
    first = lines[0]
    number = first[4:]
    if not first.startswith("old ") or not number.isdigit() or (
        number != "0" and number.startswith("0")
    ):
        raise Refused(400, "the first line is 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refused(400, f"more than {MAX_PROOF_LINES} proof lines")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error:
        raise Refused(400, "a proof line is not base64") from None
    if any(len(h) != 32 for h in proof):
        raise Refused(400, "a proof hash is not 32 bytes")
    if int(number) == 0 and proof:
        raise Refused(400, "the proof from size 0 must be empty")
    return int(number), proof, note


class _Handler(BaseHTTPRequestHandler):
    witness: Witness
    server_version = "wgx-witness/1"

    def _send(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 (http.server's naming)
        if urlsplit(self.path).path != "/add-checkpoint":
            return self._send(404, "not found\n")
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            return self._send(400, f"the body must be 1 to {MAX_BODY} bytes\n")
        try:
            line = self.witness.add_checkpoint(self.rfile.read(length))
        except Refused as refused:
            if refused.body is not None:
                return self._send(refused.status, refused.body, "text/x.tlog.size")
            return self._send(refused.status, f"{refused}\n")
        return self._send(200, line)

    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        if url.path == "/":
            return self._send(200, json.dumps({"name": self.witness.name,
                                               "vkey": self.witness.vkey}) + "\n",
                              "application/json")
        if url.path == "/checkpoint":
            origin = parse_qs(url.query).get("origin", [""])[0]
            latest = self.witness.latest(origin)
            if latest is None:
                return self._send(404, f"no checkpoint cosigned for {origin!r}\n")
            return self._send(200, latest["note"])
        return self._send(404, "not found\n")

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        log.info("%s %s", self.address_string(), format % args)


def serve(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("Handler", (_Handler,), {"witness": witness})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="A C2SP tlog-witness for the audit log.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser) -> None:
    parser.add_argument("--name", required=True, help="the witness's key name, e.g. mx-witness")
    parser.add_argument("--state", required=True, help="its state directory (key, logs, state)")
    parser.add_argument("--port", type=int, default=7380)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--trust-log", action="append", default=[], metavar="VKEY",
                        help="accept checkpoints of this log key (its name is the origin)")
    parser.add_argument("--print-vkey", action="store_true",
                        help="print the witness's verifier key (and serve unless --no-serve)")
    parser.add_argument("--no-serve", action="store_true",
                        help="only create the key and record --trust-log keys, then exit")


def run(options) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    witness = Witness(options.name, options.state)
    for log_vkey in options.trust_log:
        log.info("trusting log %s", witness.trust_log(log_vkey))
    if options.print_vkey:
        print(witness.vkey, flush=True)
    if options.no_serve:
        return 0
    server = serve(witness, options.host, options.port)
    print(f"witness {witness.name} on http://{options.host}:{server.server_port}/ "
          f"vkey {witness.vkey}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
