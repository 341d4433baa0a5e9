"""Verification as a background job for the auditor pages, with its progress.

With a broker the Verify page queues `audit.verify_for_auditor` and polls the job; without
one (the embedded default) the page walks the chain in the request instead. A job's state
lives in the cache (shared by web and worker hosts when there is a broker) for an hour,
under an unguessable id, and only the auditor who started it may read it.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict

from django.core.cache import cache
from django.db.models import Max
from django.http import Http404

from audit import selectors
from audit.models import AuditEntry

_KEY = "audit:verify-job:{}"
_TTL = 3600
# The walk reports its position per chunk; a write every this many entries keeps the cache
# traffic small on a long chain.
_PROGRESS_STEP = 10_000


def _save(job_id: str, state: dict) -> None:
    cache.set(_KEY.format(job_id), state, _TTL)


def verify_job_start(user) -> str:
    """Queue a whole-chain verification for an auditor; the job's id (refused like a
    verification to anyone else)."""
    from audit.tasks import verify_for_auditor

    selectors.last_checkpoint(user)  # the auditor gate, before anything is queued
    job_id = secrets.token_urlsafe(16)
    _save(job_id, {"owner": user.pk, "state": "queued", "checked": 0, "total": 0})
    verify_for_auditor.delay(user.pk, job_id)
    return job_id


def verify_job_run(user, job_id: str) -> None:
    """The task's work: walk the chain, writing progress and then the result under the job."""
    total = AuditEntry.objects.aggregate(top=Max("seq"))["top"] or 0
    state = {"owner": user.pk, "state": "running", "checked": 0, "total": total}
    _save(job_id, state)
    last = [0]

    def progress(seq: int) -> None:
        if seq - last[0] >= _PROGRESS_STEP:
            last[0] = seq
            _save(job_id, {**state, "checked": seq})

    try:
        result = selectors.chain_verification(user, progress=progress)
    except Exception:
        _save(job_id, {**state, "state": "failed"})
        raise
    _save(job_id, {**state, "state": "done", "checked": result.entries_checked,
                   "result": asdict(result)})


def verify_job_state(user, job_id: str) -> dict:
    """The job's state for the auditor who started it; anyone else, or a job that is gone,
    gets 404 alike."""
    selectors.last_checkpoint(user)  # the auditor gate
    state = cache.get(_KEY.format(job_id)) if job_id else None
    if not state or state.get("owner") != user.pk:
        raise Http404("No such verification.")
    return state
