"""The liaisons' walk of issue 14, in a real browser, in English and once in Spanish.

The MX investigator asked, from a lookup hit, for a US case handled H1 that carries a file.
A second US liaison loads the inbox; the first approves with a note; the second's decision,
sent afterwards from the page loaded before, is answered as a conflict naming the new state,
and exactly one `share.approve` is recorded. The MX investigator opens the shared case and
downloads the file. A US investigator who is also a liaison cannot approve their own offer.
The US liaison revokes, and the MX investigator's next click gets the not-found page. Every
page is checked with axe-core and photographed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.drain import drain_outbox
from audit.models import AuditEntry
from cases import services
from sharing import lookup
from sharing import services as sharing
from sharing.models import ShareRequest, ShareStatus
from workinggroup.models import Country

TEXT = {
    "en": {"approve": "Approve", "deny": "Deny", "inbox": "Requests to decide",
           "approved": "Approved:", "conflict": "only a pending request can be denied",
           "state": "is approved;",
           "forbidden": "You cannot do this", "revoke": "Revoke", "revoked": "Revoked:",
           "not_found": "Page not found", "grants": "Grants"},
    "es": {"approve": "Aprobar", "deny": "Denegar", "inbox": "Solicitudes por decidir",
           "approved": "Aprobada:", "conflict": "solo una solicitud", "revoke": "Revocar",
           "state": "está en estado aprobada;",
           "forbidden": "No puede hacer esto", "revoked": "Revocado:",
           "not_found": "Página no encontrada", "grants": "Concesiones"},
}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"% scan\n" * 200 + b"%%EOF\n"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_liaisons_walk(
    language, browser_page, sign_in_page, switch_language, axe_check, screenshot,
    us_liaison, mx_investigator, make_member, web,
):
    t = TEXT[language]
    step = iter(range(1, 100))

    def look(page, name):
        axe_check(page)
        screenshot(page, f"liaison-{language}-{next(step):02d}-{name}")

    # The US case (H1) with a passport and a file; the MX investigator's hit and request.
    author = make_member("US", "investigator", username="us.author")
    case = services.case_create(actor=author, title="Red de transporte Tijuana",
                                case_type="smuggling", summary="Transport ring.",
                                handling_code="H1")
    services.subject_add(case=case, actor=author, full_name="Hector Ruiz", role="transporter",
                         identifiers=[{"identifier_type": "passport", "value": "G7654321"}])
    uploaded = web(author).post(f"/cases/{case.pk}/evidence/",
                                {"file": SimpleUploadedFile("informe.pdf", PDF)})
    assert uploaded.status_code == 302
    hit = lookup.lookup_identifier(user=mx_investigator, identifier_type="passport",
                                   value="G7654321")["hits"][0]
    [share] = sharing.share_requests_open_from_hit(
        requester=mx_investigator, hit_id=hit["hit_id"], scope="full_with_files",
        justification="The passport appears in our smuggling case.",
        expires_at=timezone.now() + dt.timedelta(days=30))

    # --- a second US liaison loads the inbox first ------------------------------------------
    second = make_member("US", "liaison", username="us.liaison.2")
    late = browser_page(language)
    sign_in_page(late, second)
    assert late.url.endswith("/liaison/")

    # --- the US liaison lands on the inbox and approves with a note --------------------------
    us = browser_page("en")
    us.goto("/signin/")
    if language == "es":
        switch_language(us, "es")
    sign_in_page(us, us_liaison)
    assert us.url.endswith("/liaison/")
    assert us.get_by_role("heading", level=1).inner_text() == t["inbox"]
    card = us.locator(f"#request-{share.pk}")
    text = card.inner_text()
    assert case.reference in text and "H1" in text and "mx.investigator" in text
    assert "The passport appears in our smuggling case." in text
    look(us, "inbox")
    card.get_by_label("Nota" if language == "es" else "Note").fill("Approved for the joint case.")
    card.get_by_role("button", name=t["approve"]).click()
    assert t["approved"] in us.locator(".messages").inner_text()
    share.refresh_from_db()
    assert (share.status, share.decision_note) == (ShareStatus.APPROVED,
                                                   "Approved for the joint case.")
    look(us, "inbox-approved")

    # --- the second liaison's late decision: a conflict naming the new state -----------------
    statuses = {}
    late.on("response", lambda r: statuses.setdefault(r.url, r.status))
    late.locator(f"#request-{share.pk}").get_by_role("button", name=t["deny"]).click()
    late.wait_for_load_state()
    assert statuses.get(late.url) == 409
    problem = late.locator("main [role=alert]").inner_text()
    assert t["state"] in problem and t["conflict"] in problem  # the new state, in words
    look(late, "inbox-conflict")
    drain_outbox()
    assert AuditEntry.objects.filter(action="share.approve", outcome="success").count() == 1
    share.refresh_from_db()
    assert share.status == ShareStatus.APPROVED

    # --- the MX investigator opens the shared case and downloads the file --------------------
    mx = browser_page(language)
    sign_in_page(mx, mx_investigator)
    mx.goto(f"/cases/{case.pk}/")
    assert "Red de transporte Tijuana" in mx.content()
    with mx.expect_download() as download:
        mx.get_by_role("link", name="informe.pdf").click()
    assert download.value.suggested_filename == "informe.pdf"
    mx.goto("/requests/")
    look(mx, "mx-requests-approved")

    # --- an investigator who is also a liaison cannot approve their own offer ---------------
    both = make_member("US", "investigator", "liaison", username="us.both")
    offer = sharing.share_request_open(
        requester=both, case=case, recipient_country=Country.objects.get(code="GT"),
        scope="summary", justification="For the joint operation.",
        expires_at=timezone.now() + dt.timedelta(days=30))
    own = browser_page(language)
    sign_in_page(own, both)
    own.goto("/liaison/")
    own.locator(f"#request-{offer.pk}").get_by_role("button", name=t["approve"]).click()
    assert own.get_by_role("heading", level=1).inner_text() == t["forbidden"]
    look(own, "own-offer-refused")
    offer.refresh_from_db()
    assert offer.status == ShareStatus.PENDING

    # --- the US liaison revokes; the MX investigator's next click is not found --------------
    us.get_by_role("navigation").get_by_role("link", name=t["grants"]).click()
    row = us.locator(f"#share-{share.pk}")
    assert "MX" in row.inner_text() or "xico" in row.inner_text()
    look(us, "grants")
    row.locator("textarea").fill("The joint operation ended.")
    row.get_by_role("button", name=f"{t['revoke']} {case.reference}").click()
    assert t["revoked"] in us.locator(".messages").inner_text()
    assert ShareRequest.objects.get(pk=share.pk).status == ShareStatus.REVOKED
    us.goto("/liaison/grants/?tab=history")
    assert "The joint operation ended." in us.locator(f"#share-{share.pk}").inner_text()
    look(us, "grants-history")

    mx.get_by_role("link", name=case.reference).first.click()
    assert mx.get_by_role("heading", level=1).inner_text() == t["not_found"]
    assert "Red de transporte Tijuana" not in mx.content()
    look(mx, "mx-not-found")
