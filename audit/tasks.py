"""Celery entry points of the audit trail; each only calls a service."""

from celery import shared_task

from audit import context, services


@shared_task(name="audit.drain_outbox", ignore_result=True)
def drain_outbox():
    """Chain every waiting outbox event (safe to run twice, safe to kill)."""
    services.clear_drain_pending()
    with context.system_actor("task audit.drain_outbox"):
        return services.drain_outbox()
