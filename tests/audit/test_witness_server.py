"""The stand-alone witness speaks C2SP tlog-witness: every status the spec names, its state kept
atomically across restarts, and cosignature/v1 lines that verify (no database involved)."""

import base64
import json
import threading
import urllib.error
import urllib.request

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import merkle, notes, witness_server

ORIGIN = "wgx.example/audit"


class Log:
    """A little log: leaves, their tree, and checkpoints signed by its key."""

    def __init__(self, key=None, origin=ORIGIN):
        self.key, self.origin = key or Ed25519PrivateKey.generate(), origin
        self.leaves = []

    @property
    def vkey(self):
        return notes.vkey(self.origin, notes.SIG_ED25519, notes.public_bytes(self.key))

    def grow(self, n, tag=b"e"):
        self.leaves += [merkle.leaf_hash(tag + b"%d" % len(self.leaves)) for _ in range(n)]

    def root(self, size):
        return merkle.root_from_leaves(self.leaves[:size])

    def note(self, size, key=None):
        body = notes.checkpoint_body(self.origin, size, self.root(size))
        return notes.sign_note(body, self.origin, key or self.key)

    def proof(self, old, new):
        return [merkle.root_from_leaves(self.leaves[s:e])
                for s, e in merkle.consistency_ranges(old, new)]


def request(old, proof, note):
    lines = [f"old {old}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n" + note).encode()


@pytest.fixture
def witness(tmp_path):
    """A witness serving on a free loopback port; .post(body) -> (status, content type, text)."""
    w = witness_server.Witness("mx-witness", tmp_path / "mx")
    server = witness_server.serve(w, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    def post(body):
        req = urllib.request.Request(f"{base}/add-checkpoint", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=5) as response:  # noqa: S310
                return response.status, response.headers["Content-Type"], response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read().decode()

    def get(path):
        try:
            with urllib.request.urlopen(base + path, timeout=5) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    w.post, w.get = post, get
    yield w
    server.shutdown()
    server.server_close()


def test_cosigns_a_first_checkpoint_and_then_only_consistent_growth(witness, tmp_path):
    log = Log()
    witness.trust_log(log.vkey)
    log.grow(5)
    status, _type, text = witness.post(request(0, [], log.note(5)))
    assert status == 200
    signature = notes.parse_signature_line(text)
    verifier = notes.parse_vkey(witness.vkey)
    body, _ = notes.split_note(log.note(5))
    assert notes.verify_cosignature(body, signature, verifier) > 1_700_000_000

    log.grow(6)
    status, _type, text = witness.post(request(5, log.proof(5, 11), log.note(11)))
    assert status == 200
    saved = json.loads((tmp_path / "mx" / "state.json").read_text())[ORIGIN]
    assert (saved["size"], base64.b64decode(saved["root"])) == (11, log.root(11))
    # The monitoring extension serves the latest cosigned checkpoint with both signatures.
    status, text = witness.get(f"/checkpoint?origin={ORIGIN}")
    body, signatures = notes.split_note(text)
    assert status == 200 and notes.parse_checkpoint(body).size == 11
    assert [s.name for s in signatures] == [ORIGIN, "mx-witness"]
    assert witness.get("/checkpoint?origin=other")[0] == 404

    # The state survives a restart of the process (a new Witness on the same directory).
    again = witness_server.Witness("mx-witness", tmp_path / "mx")
    assert again.latest(ORIGIN)["size"] == 11 and again.vkey == witness.vkey


def test_every_refusal_of_the_spec(witness):
    log = Log()
    witness.trust_log(log.vkey)
    log.grow(8)
    assert witness.post(request(0, [], log.note(4)))[0] == 200

    # 404: an origin it was never told to trust.
    stranger = Log(origin="other.example/log")
    stranger.grow(2)
    assert witness.post(request(0, [], stranger.note(2)))[0] == 404
    # 403: the right origin, signed by another key.
    impostor = Ed25519PrivateKey.generate()
    assert witness.post(request(4, log.proof(4, 8), log.note(8, impostor)))[0] == 403
    # 400: malformed, or the old size beyond the checkpoint.
    assert witness.post(b"old x\n\n" + log.note(8).encode())[0] == 400
    assert witness.post(b"old 4\nnot base64!\n\n" + log.note(8).encode())[0] == 400
    assert witness.post(request(9, [], log.note(8)))[0] == 400
    # 409: not the size it cosigned, with its size as text/x.tlog.size.
    conflict = (409, "text/x.tlog.size", "4\n")
    assert witness.post(request(2, log.proof(2, 8), log.note(8))) == conflict
    # 422: a consistency proof that does not verify (another history of the first 4).
    forked = Log(log.key)
    forked.grow(8, tag=b"forged")
    assert witness.post(request(4, forked.proof(4, 8), forked.note(8)))[0] == 422
    # 409: the same size with another root hash.
    assert witness.post(request(4, [], forked.note(4))) == conflict
    # Nothing refused changed the state.
    assert witness.latest(ORIGIN)["size"] == 4
    assert witness.post(request(4, log.proof(4, 8), log.note(8)))[0] == 200


def test_a_new_origin_is_accepted_only_once_trusted(witness):
    log = Log()
    witness.trust_log(log.vkey)
    log.grow(3)
    epoch2 = Log(log.key, origin=ORIGIN + "/epoch/2")
    epoch2.leaves = list(log.leaves)
    assert witness.post(request(0, [], epoch2.note(3)))[0] == 404
    # The operator trusts the new origin from another process (the running server rereads).
    witness_server.Witness("mx-witness", witness.dir).trust_log(epoch2.vkey)
    assert witness.post(request(0, [], epoch2.note(3)))[0] == 200


def test_manage_py_run_witness_creates_its_key_and_trusts_a_log(tmp_path, capsys):
    from django.core.management import call_command

    log = Log()
    call_command("run_witness", "--name", "gt-witness", "--state", str(tmp_path / "gt"),
                 "--trust-log", log.vkey, "--print-vkey", "--no-serve")
    vkey = capsys.readouterr().out.strip().splitlines()[-1]
    witness = witness_server.Witness("gt-witness", tmp_path / "gt")
    assert vkey == witness.vkey and notes.parse_vkey(vkey).name == "gt-witness"
    assert witness.logs == {ORIGIN: [log.vkey]}
    assert oct((tmp_path / "gt" / "witness.key").stat().st_mode & 0o777) == "0o600"
