"""Mail to members about sharing. Bodies carry references and links, never case content."""

import logging

from django.conf import settings
from django.core.mail import send_mail

from workinggroup.models import Role, User

log = logging.getLogger(__name__)


def liaisons_of(country_code: str) -> list[str]:
    """Addresses of a country's active liaisons."""
    return list(
        User.objects.filter(country_id=country_code, is_active=True,
                            groups__name=Role.LIAISON.group_name)
        .exclude(email="").values_list("email", flat=True).distinct()
    )


def send(subject: str, body: str, recipients: list[str]) -> int:
    """Send one mail; a mail failure is logged, never raised into the caller."""
    if not recipients:
        return 0
    try:
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception as exc:  # SMTP down must not undo a decision already committed
        log.error("mail %r to %d recipient(s) failed: %s", subject, len(recipients), exc)
        return 0


def notify_lookup_hit(hit_id: str) -> int:
    """The owner country's liaisons learn who asked and which of their cases matched."""
    from sharing.lookup import matched_case_references
    from sharing.models import LookupHit

    hit = LookupHit.objects.select_related("requested_by").filter(pk=hit_id).first()
    if hit is None:
        return 0
    references = matched_case_references(hit)
    asker = hit.requested_by
    body = (
        f"A lookup by {asker.username} ({asker.country_id}) matched an identifier in "
        f"{len(references)} of your country's cases: {', '.join(references)}.\n\n"
        f"You may offer a share: {settings.SITE_URL}/api/v1/lookup/hits/\n"
    )
    return send("[Working Group Exchange] Partner lookup matched your cases", body,
                liaisons_of(hit.owner_country_id))
