"""E-mail about share steps. Bodies carry no case content: a reference and a link, no more.

Mail goes out after the step's transaction committed (services enqueue it on commit), through
a Celery task when a broker is configured. Nothing here ever raises into a caller: a mail
server or broker that is down costs a notification (logged), never a decision.

Partners' lookup hits are told differently: the hit rows are their own outbox, swept by beat
(`notify_lookup_hits`), so a lookup never waits on the broker and a broker or mail server that
is down delays those mails without losing one.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from sharing.models import ShareOrigin, ShareRequest, ShareScope
from workinggroup.models import Role, User

log = logging.getLogger(__name__)

OPENED, APPROVED, DENIED, REVOKED = "opened", "approved", "denied", "revoked"
EVENTS = (OPENED, APPROVED, DENIED, REVOKED)


def enqueue(event: str, share_request_id: str) -> None:
    """Hand the notification to a worker; if the broker is down, send it from here."""
    from sharing.tasks import notify_share

    try:
        notify_share.delay(event, share_request_id)
    except Exception as exc:
        log.warning("share notification not queued (%s); sending it inline", exc)
        send(event, share_request_id)


def _liaisons(country_code: str):
    return User.objects.filter(
        country=country_code, is_active=True, groups__name=Role.LIAISON.group_name
    ).exclude(email="")


def _recipients(event: str, share_request: ShareRequest) -> list[User]:
    """Who hears of each step; the member who took the step is never told of it."""
    owner = share_request.case.owner_country_id
    recipient = share_request.recipient_country_id
    requester = share_request.requested_by
    people: list[User] = []
    if event == OPENED:
        # The owner's liaisons decide; the recipient's liaisons learn what is coming.
        people += list(_liaisons(owner)) + list(_liaisons(recipient))
        actor = requester
    elif event in (APPROVED, DENIED):
        people.append(requester)
        if event == APPROVED:
            people += list(_liaisons(recipient))
        actor = share_request.decided_by
    else:  # REVOKED: the recipient side
        people += list(_liaisons(recipient))
        if requester.country_id == recipient:
            people.append(requester)
        actor = share_request.revoked_by
    seen, out = set(), []
    for person in people:
        if person.pk in seen or person.pk == getattr(actor, "pk", None):
            continue
        if not person.is_active or not person.email:
            continue
        seen.add(person.pk)
        out.append(person)
    return out


def _link(share_request: ShareRequest, event: str = "", person: User | None = None) -> str:
    """The page a mail links to: the inbox for a liaison who decides a new request, the
    requests page otherwise (the notification centre lists it too)."""
    site = settings.SITE_URL.rstrip("/")
    if (event == OPENED and person is not None and person.is_liaison
            and person.country_id == share_request.case.owner_country_id):
        return f"{site}/liaison/#request-{share_request.pk}"
    return f"{site}/requests/#request-{share_request.pk}"


def _what(share_request: ShareRequest, person: User) -> str:
    """How the case is named to this person: its reference, unless it is not theirs to know."""
    if share_request.discloses_case_to(person):
        return _("case %(reference)s") % {"reference": share_request.case.reference}
    if share_request.origin == ShareOrigin.OFFER:
        return _("a case offered to your country")
    return _("a case matched by your lookup")


# Marked for the catalogue here, translated when each mail is written in its reader's language.
_SUBJECTS = {
    OPENED: gettext_noop("Share request for {what}"),
    APPROVED: gettext_noop("Share approved: {what}"),
    DENIED: gettext_noop("Share request denied: {what}"),
    REVOKED: gettext_noop("Share revoked: {what}"),
}

_LINES = {
    OPENED: gettext_noop(
        "{requester_country} opened a share request ({origin}) for {what}: "
        "scope {scope} for {recipient_country} until {expires_at}."
    ),
    APPROVED: gettext_noop(
        "The share of {what} with {recipient_country} (scope {scope}) was approved; "
        "it lasts until {expires_at}."
    ),
    DENIED: gettext_noop(
        "The share request for {what} (scope {scope}, for {recipient_country}) was denied."
    ),
    REVOKED: gettext_noop(
        "The share of {what} with {recipient_country} (scope {scope}) was revoked; "
        "access ended at once."
    ),
}


def _language(person) -> str:
    """The language a mail to this member is written in: theirs, or the site's default."""
    return getattr(person, "language", "") or settings.LANGUAGE_CODE


def message_for(event: str, share_request: ShareRequest, person: User) -> EmailMessage:
    """One person's mail, in their language: the step, the case reference (when theirs to
    know) and a link."""
    with translation.override(_language(person)):
        what = _what(share_request, person)
        fields = {
            "what": what,
            "requester_country": share_request.requested_by.country_id or "?",
            "origin": str(ShareOrigin(share_request.origin).label).lower(),
            "scope": str(ShareScope(share_request.scope).label),
            "recipient_country": share_request.recipient_country_id,
            "expires_at": share_request.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        }
        body = "\n\n".join(
            [
                _(_LINES[event]).format(**fields),
                _("Details (sign in first): %(link)s")
                % {"link": _link(share_request, event, person)},
                _("This message carries no case content by design."),
            ]
        )
        site = _("Working Group Exchange")
        subject = f"[{site}] {_(_SUBJECTS[event]).format(what=what)}"
    return EmailMessage(subject=subject, body=body + "\n", to=[person.email])


def send(event: str, share_request_id: str) -> int:
    """Send one step's mails, one per person (no one sees another's address); never raises."""
    try:
        share_request = ShareRequest.objects.select_related(
            "case", "requested_by", "decided_by", "revoked_by"
        ).get(pk=share_request_id)
        messages = [message_for(event, share_request, p) for p in _recipients(event, share_request)]
        if not messages:
            return 0
        return get_connection(fail_silently=False).send_messages(messages) or 0
    except Exception:
        log.exception("share notification %s for %s failed", event, share_request_id)
        return 0


NOTIFY_BATCH = 100
NOTIFY_LOCK_KEY = 0x5747584C48  # "WGXLH": one lookup-hit sweep at a time, on any host


def notify_lookup_hits(batch_size: int = NOTIFY_BATCH) -> int:
    """Tell owner liaisons of every hit not yet notified; returns the hits done. Safe to rerun.

    The unnotified hits are an outbox written in the lookup's own transaction, so a broker
    that is down delays these mails and loses none. One sweep runs at a time (an advisory
    lock, not row locks: a member claiming a hit never waits on the mail server); a hit
    whose mail failed stays unnotified and is retried by the next sweep.
    """
    from sharing import centre
    from sharing.lookup import matched_case_references
    from sharing.models import LookupHit

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [NOTIFY_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return 0  # another sweep is at it
        hits = list(
            LookupHit.objects.filter(notified_at__isnull=True)
            .select_related("requested_by")
            .order_by("created_at")[:batch_size]
        )
        liaisons, done = {}, []
        for hit in hits:
            country = hit.owner_country_id
            if country not in liaisons:
                liaisons[country] = list(_liaisons(country).values_list("email", "language"))
            if _mail_hit(hit, matched_case_references(hit), liaisons[country]):
                centre.record_hit(hit)
                hit.notified_at = timezone.now()
                done.append(hit)
        LookupHit.objects.bulk_update(done, ["notified_at"])
    return len(done)


def _mail_hit(hit, references: list[str], recipients: list[tuple[str, str]]) -> bool:
    """One hit's mail to its owner's liaisons, one message per language they read: who asked
    and which cases; False if not sent. `recipients` are (e-mail, language) pairs."""
    if not recipients or not references:
        return True  # no one to tell, or the cases are gone: nothing will change by waiting
    asker = hit.requested_by
    by_language: dict[str, list[str]] = {}
    for email, language in recipients:
        by_language.setdefault(language or settings.LANGUAGE_CODE, []).append(email)
    messages = []
    for language, emails in sorted(by_language.items()):
        with translation.override(language):
            found = (
                _("A lookup by %(username)s (%(country)s) matched an identifier in %(count)d "
                  "of your country's cases: %(references)s.") % {
                    "username": asker.username, "country": asker.country_id,
                    "count": len(references), "references": ", ".join(references)}
            )
            offer = _("You may offer a share: %(link)s") % {
                "link": f"{settings.SITE_URL.rstrip('/')}/liaison/hits/"}
            body = f"{found}\n\n{offer}\n"
            site, what = _("Working Group Exchange"), _("Partner lookup matched your cases")
            subject = f"[{site}] {what}"
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, emails))
    try:
        for message in messages:
            message.send()
    except Exception as exc:  # SMTP down: the hit stays unnotified and the next sweep retries
        log.error("lookup hit mail failed (will retry): %s", exc)
        return False
    return True
