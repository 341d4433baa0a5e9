"""Checkpoint notes and their witnesses: sign the tree's head, submit it, keep cosignatures.

A note is signed (C2SP checkpoint, the audit signing key, key name = the origin) whenever
the drain's batch crosses a multiple of AUDIT_NOTE_EVERY and by beat every minute when the
log grew. Each note is submitted to every configured witness (C2SP tlog-witness) with a
consistency proof from the size that witness last cosigned. None of this takes the drain's
lock: the tree rows it reads are committed, and the ones it writes (a size's right edge)
are never written by the drain.

Answers: 200 keeps the cosignature; 409 naming a smaller size resynchronises (the proof
is rebuilt from that size); 409 naming a larger size, or the same size with another root,
is the alarm of a rollback or fork; 422 (our tree does not extend what the witness
cosigned) is the alarm of a rewrite; no answer means the witness falls behind. Every alarm
is an ERROR line "AUDIT ALERT: ...", the witness's status (health), and, when its state
changes, an `audit.witness_failed` entry.
"""

import base64
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import context, merkle_store, notes
from audit.models import AuditEntry
from audit.recording import record
from audit.witnessed_models import CheckpointNote, Cosignature, Epoch, WitnessStatus
from core.keyring import get_keyring

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WitnessConfig:
    """One configured witness: its name, URL and cosignature verifier key."""

    name: str
    url: str
    verifier: notes.Verifier


def configured_witnesses() -> list[WitnessConfig]:
    """WG_WITNESSES parsed and checked; ImproperlyConfigured names what is wrong."""
    witnesses = []
    for i, item in enumerate(settings.WG_WITNESSES):
        try:
            name, url, vkey = item["name"], item["url"], item["vkey"]
            verifier = notes.parse_vkey(vkey)
        except (KeyError, TypeError, notes.NoteError) as exc:
            raise ImproperlyConfigured(f"WG_WITNESSES[{i}]: {exc}") from None
        if verifier.name != name or verifier.sig_type != notes.SIG_COSIGNATURE_V1:
            raise ImproperlyConfigured(
                f"WG_WITNESSES[{i}]: the vkey must be {name}'s cosignature/v1 key"
            )
        if urlsplit(url).scheme not in ("http", "https"):
            raise ImproperlyConfigured(f"WG_WITNESSES[{i}]: the url must be http(s)")
        witnesses.append(WitnessConfig(name, url.rstrip("/"), verifier))
    return witnesses


def quorum() -> int:
    return settings.WG_WITNESS_QUORUM


def current_origin() -> str:
    """The origin line of the current epoch (a restore from backup starts a new one)."""
    epoch = Epoch.objects.order_by("-number").values_list("origin", flat=True).first()
    return epoch or settings.WG_AUDIT_ORIGIN


def log_vkey(origin: str | None = None) -> str:
    """The log's verifier key for an origin: what each witness operator trusts."""
    _key_id, key = get_keyring().audit_signing_key()
    return notes.vkey(origin or current_origin(), notes.SIG_ED25519, notes.public_bytes(key))


def log_verifiers(origin: str) -> list[notes.Verifier]:
    """Every audit signing key (current and retired) as a note verifier for an origin."""
    return [
        notes.Verifier(origin, notes.SIG_ED25519, raw)
        for raw in get_keyring().audit_public_keys().values()
    ]


# --- Signing -------------------------------------------------------------------------------------


def sign_checkpoint(size: int | None = None) -> CheckpointNote | None:
    """The signed note of the tree at `size` (default: the stored tree's size), made once."""
    origin = current_origin()
    if size is None:  # the tree's size, unless entries were cut behind it (never sign those)
        size = min(merkle_store.tree_size(), _log_size())
    if size == 0:
        return None
    existing = CheckpointNote.objects.filter(origin=origin, size=size).first()
    if existing:
        return existing
    root = merkle_store.store_frontier(size)
    body = notes.checkpoint_body(origin, size, root)
    _key_id, key = get_keyring().audit_signing_key()
    text = notes.sign_note(body, origin, key)
    try:
        with transaction.atomic():
            return CheckpointNote.objects.create(origin=origin, size=size, root=root.hex(),
                                                 note=text)
    except IntegrityError:  # another worker signed the same size first
        return CheckpointNote.objects.get(origin=origin, size=size)


def _log_size() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def witness_checkpoint() -> CheckpointNote | None:
    """Sign the head when the log grew, and submit the latest note to every witness."""
    note = sign_checkpoint()
    if note is not None:
        submit(note)
    return note


# --- Submitting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one witness answered to one submission."""

    witness: str
    state: str  # ok, unreachable, behind-resynced, ahead, conflict, refused, bad-cosignature
    size: int  # the size the witness has cosigned, as far as we know
    detail: str = ""


def _last_cosigned_size(witness: str, origin: str) -> int:
    size = (
        Cosignature.objects.filter(witness=witness, note__origin=origin)
        .order_by("-note__size")
        .values_list("note__size", flat=True)
        .first()
    )
    return size or 0


def _add_checkpoint_body(old: int, proof: list[bytes], note_text: str) -> bytes:
    lines = [f"old {old}"] + [base64.b64encode(h).decode() for h in proof]
    return ("\n".join(lines) + "\n\n" + note_text).encode()


def _post(witness: WitnessConfig, body: bytes) -> tuple[int, str]:
    """(status, text) of a POST to the witness; status 0 when it cannot be reached."""
    request = Request(  # noqa: S310 - the scheme is checked in configured_witnesses
        f"{witness.url}/add-checkpoint", data=body, method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urlopen(request, timeout=settings.WG_WITNESS_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            return response.status, response.read(65536).decode("utf-8", "replace")
    except HTTPError as error:
        return error.code, error.read(65536).decode("utf-8", "replace")
    except (URLError, OSError) as error:
        return 0, str(getattr(error, "reason", error))


def fetch_latest(witness: WitnessConfig, origin: str) -> tuple[int, str]:
    """The witness's latest cosigned checkpoint for an origin (GET /checkpoint extension)."""
    url = f"{witness.url}/checkpoint?origin={quote(origin, safe='')}"
    try:
        with urlopen(url, timeout=settings.WG_WITNESS_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            return response.status, response.read(65536).decode("utf-8", "replace")
    except HTTPError as error:
        return error.code, error.read(4096).decode("utf-8", "replace")
    except (URLError, OSError) as error:
        return 0, str(getattr(error, "reason", error))


def submit(note: CheckpointNote) -> list[Outcome]:
    """Submit a note to every configured witness (in parallel) and act on the answers."""
    witnesses = configured_witnesses()
    if not witnesses:
        return []
    old_sizes = {w.name: min(_last_cosigned_size(w.name, note.origin), note.size)
                 for w in witnesses}
    requests = {w.name: _add_checkpoint_body(old_sizes[w.name],
                                             merkle_store.consistency_proof(old_sizes[w.name],
                                                                            note.size), note.note)
                for w in witnesses}
    with ThreadPoolExecutor(max_workers=len(witnesses), thread_name_prefix="witness") as pool:
        answers = dict(zip(witnesses, pool.map(lambda w: _post(w, requests[w.name]), witnesses),
                           strict=True))
    outcomes = []
    for witness, (status, text) in answers.items():
        outcome = _handle(witness, note, old_sizes[witness.name], status, text)
        _record_status(witness, note, outcome)
        outcomes.append(outcome)
    return outcomes


def _handle(witness, note, old, status, text, resync=True) -> Outcome:
    name = witness.name
    if status == 200:
        return _keep_cosignature(witness, note, text)
    if status == 0:
        return Outcome(name, "unreachable", old, f"no answer: {text}")
    if status == 409:
        try:
            theirs = int(text.strip())
        except ValueError:
            return Outcome(name, "refused", old, f"409 without a size: {text[:200]}")
        if theirs > note.size:
            return Outcome(name, "ahead", theirs,
                           f"has cosigned size {theirs} but the log's checkpoint is size "
                           f"{note.size}: the log was cut or rolled back")
        if not resync:
            return Outcome(name, "conflict", theirs,
                           f"holds another tree of size {theirs} (a fork of the log)")
        # The witness is not where we remember (our record was lost or it missed a note), but
        # not ahead of the log: prove our tree from its size. A different tree at that size
        # comes back as 409 (same size) or 422, both alarms.
        proof = merkle_store.consistency_proof(theirs, note.size)
        status, text = _post(witness, _add_checkpoint_body(theirs, proof, note.note))
        return _handle(witness, note, theirs, status, text, resync=False)
    if status == 422:
        return Outcome(name, "conflict", old,
                       f"refused the consistency proof from size {old}: the tree it cosigned "
                       "is not a prefix of the log's (rewritten history)")
    return Outcome(name, "refused", old, f"answered {status}: {text.strip()[:200]}")


def _keep_cosignature(witness, note, text) -> Outcome:
    body, _signatures = notes.split_note(note.note)
    for line in text.splitlines(keepends=True):
        try:
            signature = notes.parse_signature_line(line)
            timestamp = notes.verify_cosignature(body, signature, witness.verifier)
        except notes.NoteError:
            continue  # the spec: ignore cosignatures from keys we do not know
        cosigned_at = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
        try:
            with transaction.atomic():
                Cosignature.objects.create(note=note, witness=witness.name, line=line,
                                           cosigned_at=cosigned_at)
        except IntegrityError:
            pass  # cosigned twice (a resubmission): the first one is kept
        return Outcome(witness.name, "ok", note.size)
    return Outcome(witness.name, "bad-cosignature", 0,
                   "answered 200 without a valid cosignature by its configured key")


ALARMS = {"ahead": "rollback", "conflict": "fork or rewrite", "unreachable": "falls behind",
          "refused": "refused", "bad-cosignature": "bad cosignature"}


def _record_status(witness, note, outcome) -> None:
    """Keep the witness's status for health; alert (log, audit entry) when it turns bad."""
    previous = WitnessStatus.objects.filter(witness=witness.name).first()
    ok = outcome.state == "ok"
    WitnessStatus.objects.update_or_create(
        witness=witness.name,
        defaults={"origin": note.origin, "ok": ok, "cosigned_size": outcome.size,
                  "detail": f"{outcome.state}: {outcome.detail}" if not ok else "",
                  "checked_at": timezone.now()},
    )
    if ok:
        return
    log.error("AUDIT ALERT: witness %s (%s) on %s @ %d: %s", witness.name,
              ALARMS[outcome.state], note.origin, note.size, outcome.detail)
    if previous and not previous.ok and previous.detail.startswith(outcome.state + ":"):
        return  # the same failure as last time: alerted already
    with context.system_actor("task audit.witness_checkpoint"), transaction.atomic():
        record(
            "audit.witness_failed", None, target=("audit.witness", witness.name),
            outcome="failure", witness=witness.name, alarm=ALARMS[outcome.state],
            state=outcome.state, origin=note.origin, checkpoint_size=note.size,
            witness_size=outcome.size, detail=outcome.detail,
        )


def health() -> tuple[bool, str]:
    """(healthy, text) for /healthz: fewer than the quorum of witnesses cosigning is unhealthy."""
    try:
        witnesses = configured_witnesses()
    except ImproperlyConfigured as exc:  # the system check names it too
        return False, f"error: {exc}"
    if not witnesses:
        return True, "unwitnessed (no WG_WITNESSES configured)"
    statuses = {s.witness: s for s in WitnessStatus.objects.filter(
        witness__in=[w.name for w in witnesses])}
    failing = {w.name: statuses[w.name].detail for w in witnesses
               if w.name in statuses and not statuses[w.name].ok}
    # A witness not asked yet (a fresh deployment) is not counted as failing.
    cosigning = len(witnesses) - len(failing)
    text = f"{cosigning} of {len(witnesses)} witnesses cosigning (quorum {quorum()})"
    if failing:
        text += "; " + "; ".join(f"{name}: {detail}" for name, detail in sorted(failing.items()))
    alarm = any(detail.startswith(("ahead", "conflict")) for detail in failing.values())
    return cosigning >= quorum() and not alarm, text
