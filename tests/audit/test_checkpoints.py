"""Signed checkpoints: every AUDIT_CHECKPOINT_EVERY entries, by beat when new entries exist,
and served with the public keys so a copy outside the database can check them."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import audit
from audit import chain, checkpoints, tasks
from audit.models import AuditCheckpoint, AuditEntry

URL = "/api/v1/audit/checkpoints/"


def record(n):
    for i in range(n):
        audit.record("case.view", "alice", n=i)


def checkpoint_seqs():
    return list(AuditCheckpoint.objects.values_list("seq", flat=True))


def test_the_drain_signs_the_head_of_a_batch_that_crosses_a_multiple(db, drain, settings):
    settings.AUDIT_CHECKPOINT_EVERY = 10
    record(7)
    drain()
    assert checkpoint_seqs() == []
    record(6)  # 8..13 crosses 10
    drain()
    assert checkpoint_seqs() == [13]
    record(20)
    drain(batch_size=8)  # 14..21 crosses 20, 22..29 none, 30..33 crosses 30
    assert checkpoint_seqs() == [13, 21, 33]


def test_a_checkpoint_signs_seq_and_head_hash_with_the_keyring_key(db, drain, settings):
    settings.AUDIT_CHECKPOINT_EVERY = 5
    record(5)
    drain()
    [cp] = AuditCheckpoint.objects.all()
    head = AuditEntry.objects.get(seq=5)
    from core.keyring import get_keyring

    key_id, _ = get_keyring().audit_signing_key()
    public = Ed25519PublicKey.from_public_bytes(get_keyring().audit_public_keys()[key_id])
    assert (cp.seq, cp.head_hash, cp.key_id) == (5, head.hash, key_id)
    public.verify(bytes.fromhex(cp.signature), chain.checkpoint_message(5, head.hash))


def test_beat_signs_the_head_only_when_new_entries_exist(db, drain, settings):
    settings.AUDIT_CHECKPOINT_EVERY = 1000
    assert tasks.checkpoint() is None  # empty chain
    record(3)
    drain()
    assert tasks.checkpoint() == 3
    assert tasks.checkpoint() is None
    record(1)
    drain()
    assert tasks.checkpoint() == 4
    assert checkpoint_seqs() == [3, 4]


def test_a_signing_failure_never_stops_the_chain(db, drain, settings, monkeypatch, caplog):
    settings.AUDIT_CHECKPOINT_EVERY = 2

    def broken(seq, head_hash):
        raise RuntimeError("keyring unreadable")

    monkeypatch.setattr(checkpoints, "sign_checkpoint", broken)
    record(3)
    assert drain() == 3
    assert AuditEntry.objects.count() == 3 and checkpoint_seqs() == []
    assert "AUDIT ALERT: could not sign the checkpoint at #3" in caplog.text


def test_the_api_serves_checkpoints_and_public_keys(db, drain, api, mx_auditor, settings):
    settings.AUDIT_CHECKPOINT_EVERY = 2
    record(4)
    drain(batch_size=2)

    body = api(mx_auditor).get(URL).json()

    assert [c["seq"] for c in body["results"]] == [2, 4]
    assert body["algorithm"] == "Ed25519"
    assert body["message"] == "wgx-audit-checkpoint-v1\n{seq}\n{head_hash}"
    for cp in body["results"]:
        key = body["public_keys"][cp["key_id"]]
        assert base64.b64decode(key["base64"]) == bytes.fromhex(key["hex"])
        message = body["message"].format(seq=cp["seq"], head_hash=cp["head_hash"]).encode()
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["hex"])).verify(
            bytes.fromhex(cp["signature"]), message
        )
    assert set(body["results"][0]) == {"seq", "head_hash", "key_id", "signature", "signed_at"}


def test_no_private_key_material_is_served(db, api, oversight_auditor):
    from core.keyring import get_keyring

    _, private = get_keyring().audit_signing_key()
    from cryptography.hazmat.primitives import serialization

    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    content = api(oversight_auditor).get(URL).content
    assert raw.hex().encode() not in content
    assert base64.b64encode(raw) not in content


def test_reading_checkpoints_is_audited(db, api, gt_auditor, audit_log):
    api(gt_auditor).get(URL)
    [entry] = audit_log(action="audit.view")
    assert (entry.actor, entry.target_id) == ("gt.auditor", "checkpoints")


@pytest.mark.parametrize("position", ["not-a-seq", "1e3", "1.5"])
def test_a_forged_cursor_is_a_400_naming_it(db, api, gt_auditor, position):
    from urllib.parse import urlencode

    cursor = base64.b64encode(urlencode({"p": position, "o": "0"}).encode()).decode()
    response = api(gt_auditor).get(URL, {"cursor": cursor})
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith("cursor: ")


@pytest.mark.parametrize("persona", ["gt_investigator", "us_liaison"])
def test_only_auditors_read_checkpoints(db, api, request, persona):
    assert api(request.getfixturevalue(persona)).get(URL).status_code == 403
