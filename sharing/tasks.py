"""Celery entry points of sharing; each only calls a service. Arguments are ids (JSON)."""

from celery import shared_task

from audit import context
from sharing import centre, notifications, services


@shared_task(name="sharing.expire_due", ignore_result=True)
def expire_due():
    """Beat: expire approved shares whose time has come (safe to run twice)."""
    with context.system_actor("task sharing.expire_due"):
        return services.share_expire_due()


@shared_task(name="sharing.notify", ignore_result=True)
def notify_share(event: str, share_request_id: str):
    """Mail the people a share step concerns; a mail failure is logged, never raised."""
    if event not in notifications.EVENTS:
        raise ValueError(f"unknown share notification {event!r}")
    return notifications.send(event, share_request_id)


@shared_task(name="sharing.notify_lookup_hits", ignore_result=True)
def notify_lookup_hits():
    """Beat: tell owner liaisons of partners' hits not yet notified (safe to run twice)."""
    with context.system_actor("task sharing.notify_lookup_hits"):
        return notifications.notify_lookup_hits()


@shared_task(name="sharing.notify_expiring", ignore_result=True)
def notify_expiring():
    """Beat: tell recipients of shares ending within 7 days, once each (safe to run twice)."""
    with context.system_actor("task sharing.notify_expiring"):
        return centre.notify_expiring()
