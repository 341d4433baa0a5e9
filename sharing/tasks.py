"""Celery entry points of sharing; arguments are ids, each task only calls a service."""

from celery import shared_task

from audit import context


@shared_task(name="sharing.notify_lookup_hit", ignore_result=True)
def notify_lookup_hit(hit_id: str):
    """Tell the owner country's liaisons that a partner's lookup matched their cases."""
    from sharing.notifications import notify_lookup_hit as send

    with context.system_actor("task sharing.notify_lookup_hit"):
        send(hit_id)
