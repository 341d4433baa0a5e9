"""Checkpoints: Ed25519 signatures over (seq, head hash) with the keyring's audit key."""

import logging

from django.db import transaction

from audit import chain
from audit.models import AuditCheckpoint
from audit.writer import chain_head, chain_writer
from core.keyring import get_keyring

log = logging.getLogger(__name__)


def sign_checkpoint(seq: int, head_hash: str) -> AuditCheckpoint:
    key_id, key = get_keyring().audit_signing_key()
    signature = key.sign(chain.checkpoint_message(seq, head_hash))
    return AuditCheckpoint.objects.create(
        seq=seq, head_hash=head_hash, key_id=key_id, signature=signature.hex()
    )


def checkpoint_in_drain(seq: int, head_hash: str) -> None:
    """Sign the head a batch ended on; a signing failure never stops the chain."""
    try:
        with transaction.atomic():
            sign_checkpoint(seq, head_hash)
    except Exception:
        log.exception("AUDIT ALERT: could not sign the checkpoint at #%d", seq)


def checkpoint_create() -> AuditCheckpoint | None:
    """Sign the chain's head unless it is signed already (beat, every few minutes)."""
    with chain_writer():
        seq, head_hash = chain_head()
        if seq == 0 or AuditCheckpoint.objects.filter(seq__gte=seq).exists():
            return None
        return sign_checkpoint(seq, head_hash)


def checkpoint_public_keys() -> dict[str, bytes]:
    """Every audit signing key's public half (raw 32 bytes) by key id."""
    return get_keyring().audit_public_keys()
