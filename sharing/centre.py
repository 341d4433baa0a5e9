"""The notification centre: what concerns a member, in the pages, beside the mails.

A notification names a share request or a lookup hit and its kind, never case content; the
centre's page shows the reference only where the request's own rule discloses it. They are
written in the same transaction as the step they tell of (a rolled-back step leaves none);
hits get theirs in the sweep that mails the owner's liaisons. Reading them is a service.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

import audit
from sharing.models import Notification, NotificationKind, ShareRequest, ShareStatus
from workinggroup.models import Role, User

OPENED, APPROVED, DENIED, REVOKED = "opened", "approved", "denied", "revoked"
CANCELLED = "cancelled"


def _liaisons(country_code: str):
    return User.objects.filter(
        country=country_code, is_active=True, groups__name=Role.LIAISON.group_name
    )


def record_share_step(event: str, share_request: ShareRequest, actor) -> list[Notification]:
    """Tell whom a share step concerns (never the member who took it): a new request goes to
    the owner country's liaisons to decide; a decision to the member who asked; an approved
    share also to the recipient country's liaisons when the owner offered it (nobody there
    asked); a revocation to the recipient country's liaisons and to the member who asked when
    of that country; a renewal cancelled with its revoked share to the member who asked for
    it. Call inside the step's transaction."""
    recipient = share_request.recipient_country_id
    asker = share_request.requested_by
    notices = []  # (member, kind)
    if event == OPENED:
        notices = [(p, NotificationKind.TO_DECIDE)
                   for p in _liaisons(share_request.case.owner_country_id)]
    elif event in (APPROVED, DENIED, CANCELLED):
        notices = [(asker, NotificationKind.DECIDED)]
        if event == APPROVED and asker.country_id != recipient:
            notices += [(p, NotificationKind.RECEIVED) for p in _liaisons(recipient)]
    elif event == REVOKED:
        notices = [(p, NotificationKind.REVOKED) for p in _liaisons(recipient)]
        if asker.country_id == recipient:
            notices.append((asker, NotificationKind.REVOKED))
    actor_pk = getattr(actor, "pk", None)
    people = {p.pk: (p, kind) for p, kind in notices if p.pk != actor_pk and p.is_active}
    return Notification.objects.bulk_create(
        Notification(member=p, kind=kind, share_request=share_request)
        for p, kind in people.values()
    )


def record_hit(hit) -> list[Notification]:
    """Tell the owner country's liaisons that a partner's lookup matched their cases."""
    return Notification.objects.bulk_create(
        Notification(member=p, kind=NotificationKind.HIT, hit=hit)
        for p in _liaisons(hit.owner_country_id)
    )


EXPIRY_WARNING = dt.timedelta(days=7)


def notify_expiring(*, at=None) -> int:
    """Tell both sides of every approved share ending within 7 days, once per share: the
    recipient side (the member who asked, when of the recipient country, and the recipient
    country's liaisons), so they may ask to renew it, and the owner country's liaisons, who
    decide. A share already warned of, or whose renewal was approved (it goes on), is
    skipped, so the sweep can run any number of times."""
    at = at or timezone.now()
    due = (ShareRequest.objects.filter(status=ShareStatus.APPROVED, expires_at__gt=at,
                                       expires_at__lte=at + EXPIRY_WARNING)
           .exclude(pk__in=Notification.objects.filter(kind=NotificationKind.EXPIRING)
                    .values("share_request_id"))
           .exclude(renewals__status=ShareStatus.APPROVED)
           .select_related("requested_by", "case"))
    made = 0
    for share_request in due:
        with transaction.atomic():
            people = {p.pk: p for p in _liaisons(share_request.recipient_country_id)}
            people.update({p.pk: p for p in _liaisons(share_request.case.owner_country_id)})
            asker = share_request.requested_by
            if asker.is_active and asker.country_id == share_request.recipient_country_id:
                people[asker.pk] = asker
            made += len(Notification.objects.bulk_create(
                Notification(member=p, kind=NotificationKind.EXPIRING,
                             share_request=share_request)
                for p in people.values()))
    return made


def notifications_for(user, *, limit: int = 50) -> list[Notification]:
    """The member's own notifications, newest first (nobody reads another's)."""
    return list(
        Notification.objects.filter(member=user)
        .select_related("share_request__case", "share_request__requested_by", "hit")
        .order_by("-created_at")[:limit]
    )


def unread_count(user) -> int:
    """How many of the member's notifications are unread (the navigation's badge)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(member=user, read_at__isnull=True).count()


def notifications_mark_read(*, member) -> int:
    """Mark every unread notification of the member read; audited with how many."""
    with transaction.atomic():
        unread = list(
            Notification.objects.select_for_update()
            .filter(member=member, read_at__isnull=True).values_list("pk", flat=True)
        )
        count = Notification.objects.filter(pk__in=unread).update(read_at=timezone.now())
        audit.record("notification.read", member, target=("sharing.notification", ""),
                     count=count)
    return count
