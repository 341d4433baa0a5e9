"""Demo cases for `manage.py seed_demo`: a working group at work, made through the services.

Per country, three cases: one with an organiser and a protected victim, identifiers of several
types and a small evidence file; one with a transporter and a vehicle plate; one with handling
code H2. The first is shared with the next country (approved by a liaison), the second offered
to the one after (pending), the third offered to both partners at once (two pending requests,
each needing two liaisons: `{cc}.liaison` and `{cc}.liaison2`). Idempotent: a country whose
demo cases exist is left alone.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from cases import attachments, services
from cases.models import Case
from cases.upload import EncryptingUploadHandler
from sharing import services as sharing
from workinggroup.models import Country, User

DEMO_MARK = "(demo)"
EVIDENCE = (
    b"Demo evidence note.\n"
    b"Transfers observed between the recruiters' accounts; see the case summary.\n"
)


def _members(code: str):
    cc = code.lower()
    found = {u.username: u for u in User.objects.filter(username__startswith=f"{cc}.")}
    return found.get(f"{cc}.investigator1"), found.get(f"{cc}.liaison")


def _upload(case: Case, actor, name: str, data: bytes) -> None:
    """A small file through the same encrypting handler and service as a page upload."""
    handler = EncryptingUploadHandler()

    def read_body():  # what Django's multipart parser does with a one-file form
        handler.new_file("file", name, "text/plain", len(data))
        handler.receive_data_chunk(data, 0)
        handler.file_complete(len(data))

    attachments.attachment_upload(case=case, actor=actor, handler=handler,
                                  content_length=len(data), read_body=read_body)


def _cases_of(code: str, investigator) -> tuple[Case, Case, Case]:
    first = services.case_create(
        actor=investigator, title=f"Recruitment ring, {code} {DEMO_MARK}",
        case_type="trafficking", handling_code="H1", source_reliability="B",
        information_assessment="2",
        summary="Fake job offers lure people north; payments through several accounts.",
    )
    services.subject_add(
        case=first, actor=investigator, full_name=f"Ramiro Esquivel {code}", role="organiser",
        aliases=["El Contador"], date_of_birth=datetime.date(1979, 4, 12),
        identifiers=[{"identifier_type": "passport", "value": f"{code}1234567"},
                     {"identifier_type": "phone", "value": "+52 55 1234 5678"}],
    )
    services.subject_add(
        case=first, actor=investigator, full_name=f"Lucía Tzoc {code}", role="victim",
        identifiers=[{"identifier_type": "national_id", "value": f"{code}-ID-0042"}],
    )
    _upload(first, investigator, "demo-note.txt", EVIDENCE)
    second = services.case_create(
        actor=investigator, title=f"Smuggling route, {code} {DEMO_MARK}",
        case_type="smuggling", summary="Vans crossing at night with forged permits.",
    )
    services.subject_add(
        case=second, actor=investigator, full_name=f"Óscar Villeda {code}", role="transporter",
        identifiers=[{"identifier_type": "vehicle_plate", "value": f"{code} 123-ABC"}],
    )
    third = services.case_create(
        actor=investigator, title=f"Money network, {code} {DEMO_MARK}",
        case_type="trafficking", handling_code="H2", source_reliability="A",
        information_assessment="2",
        summary="Remittance agents moving the ring's money across three borders.",
    )
    return first, second, third


def seed_demo_cases() -> str:
    """Create the demo cases and shares that are missing; say what was made."""
    countries = list(Country.objects.order_by("code"))
    made = 0
    for n, country in enumerate(countries):
        investigator, liaison = _members(country.code)
        if investigator is None or Case.objects.filter(
            owner_country=country, title__endswith=DEMO_MARK
        ).exists():
            continue
        first, second, third = _cases_of(country.code, investigator)
        made += 3
        if len(countries) < 2:
            continue
        expires = timezone.now() + datetime.timedelta(days=90)
        approved_to = countries[(n + 1) % len(countries)]
        offer = sharing.share_request_open(
            requester=investigator, case=first, recipient_country=approved_to,
            scope="full", justification="Joint investigation of the recruitment ring.",
            expires_at=expires,
        )
        if liaison is not None:
            sharing.share_request_approve(share_request=offer, liaison=liaison,
                                          note="Approved for the joint investigation.")
        sharing.share_request_open(
            requester=investigator, case=second,
            recipient_country=countries[(n + 2) % len(countries)], scope="summary",
            justification="The route crosses your border.", expires_at=expires,
        )
        sharing.share_requests_offer(
            requester=investigator, case=third,
            recipient_countries=[c for c in countries if c.pk != country.pk],
            scope="summary", justification="The money moves through your country.",
            expires_at=expires,
        )
    return f"Demo cases: {made} created." if made else "Demo cases: already there."
