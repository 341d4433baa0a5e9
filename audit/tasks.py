"""Celery entry points of the audit trail; each only calls a service."""

from celery import shared_task
from django.contrib.auth import get_user_model

from audit import checkpoints, context, drain, recording, verification, verify_jobs, witnessing


@shared_task(name=recording.DRAIN_TASK, ignore_result=True)
def drain_outbox():
    """Chain every waiting outbox event (safe to run twice, safe to kill)."""
    recording.clear_drain_pending()
    with context.system_actor("task audit.drain_outbox"):
        return drain.drain_outbox()


@shared_task(name="audit.checkpoint", ignore_result=True)
def checkpoint():
    """Sign the chain's head when entries arrived since the last checkpoint."""
    created = checkpoints.checkpoint_create()
    return created.seq if created else None


@shared_task(name="audit.verify_recent", ignore_result=True)
def verify_recent():
    """Verify the newest entries; an ERROR alert line when the chain is broken."""
    return verification.chain_verify_recent().ok


@shared_task(name="audit.watch_outbox", ignore_result=True)
def watch_outbox():
    """An ERROR alert line when the oldest undrained event is older than the threshold."""
    return recording.outbox_lag_alert()


@shared_task(name="audit.witness_checkpoint", ignore_result=True)
def witness_checkpoint():
    """Sign a checkpoint note when the log grew and submit it to the witnesses."""
    with context.system_actor("task audit.witness_checkpoint"):
        note = witnessing.witness_checkpoint()
    return note.size if note else None


@shared_task(name="audit.verify_for_auditor", ignore_result=True)
def verify_for_auditor(user_id, job_id):
    """The Verify page's background walk; progress and result go to the job's state."""
    verify_jobs.verify_job_run(get_user_model().objects.get(pk=user_id), job_id)
