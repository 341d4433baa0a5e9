"""The two-person rule of issue 18, in a real browser; the second US liaison works in Spanish
throughout.

A US investigator offers an H2 case to MX and GT in one form (first with no country checked:
the error beside the field, nothing created). The first US liaison approves MX's request from
the keyboard and reads "needs one more"; approving again is refused with the service's reason.
The MX investigator cannot open the case yet. The second US liaison (Spanish) approves MX's
request and denies GT's. The MX investigator opens the case, sees neither GT nor the approvers,
and asks to renew; revoking the share cancels the renewal. GT's investigator reads "Denied"
and cannot open the case. Every page is
checked with axe-core and photographed.
"""

from __future__ import annotations

import datetime as dt

import pytest

from audit.drain import drain_outbox
from audit.models import AuditEntry
from cases import services
from sharing.models import ShareApproval, ShareRequest, ShareStatus


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_liaisons_release_an_h2_case_to_one_partner_of_two(
    browser_page, sign_in_page, switch_language, axe_check, screenshot,
    us_investigator, us_liaison, make_member, mx_investigator, gt_investigator,
):
    step = iter(range(1, 100))

    def look(page, name):
        axe_check(page)
        screenshot(page, f"two-person-{next(step):02d}-{name}")

    us_liaison2 = make_member("US", "liaison", username="us.liaison2")
    case = services.case_create(actor=us_investigator, title="Ruta del Soconusco",
                                case_type="trafficking", handling_code="H2",
                                summary="Recruiters moving people along the coast road.")

    # --- the US investigator offers the case to MX and GT in one form ------------------------
    us = browser_page("en")
    sign_in_page(us, us_investigator)
    us.goto(f"/cases/{case.pk}/")
    us.get_by_role("button", name="Offer the case").click()  # nothing checked, no reason
    assert us.get_by_role("heading", level=1).inner_text() == "Offer to partners"
    assert "Partner countries" in us.locator(".field-error").first.inner_text()
    assert not ShareRequest.objects.exists()
    look(us, "offer-errors")
    us.check("input[name=recipient_countries][value=MX]")
    us.check("input[name=recipient_countries][value=GT]")
    us.check("#id_scope_1")  # full
    us.fill("#id_justification", "The recruiters cross both borders.")
    us.get_by_role("button", name="Offer the case").click()
    assert ("Offer to Guatemala, Mexico sent to your liaisons"
            in us.locator(".messages").inner_text())
    mx_share = ShareRequest.objects.get(case=case, recipient_country="MX")
    gt_share = ShareRequest.objects.get(case=case, recipient_country="GT")
    assert {mx_share.status, gt_share.status} == {ShareStatus.PENDING}
    look(us, "offered")

    # --- the first US liaison approves MX's request from the keyboard -------------------------
    first = browser_page("en")
    sign_in_page(first, us_liaison)
    assert first.url.endswith("/liaison/")
    card = first.locator(f"#request-{mx_share.pk}")
    assert "Needs 2 approvals, each by a different liaison." in card.inner_text()
    look(first, "inbox")
    card.get_by_label("Note").fill("Checked the recipients' unit.")
    card.get_by_role("button", name="Approve").focus()
    first.keyboard.press("Enter")
    first.wait_for_load_state()
    assert "Approval recorded" in first.locator(".messages").inner_text()
    card = first.locator(f"#request-{mx_share.pk}")
    assert "Awaiting a second approval" in card.inner_text()
    assert "Approved by us.liaison, needs one more." in card.inner_text()
    look(first, "inbox-needs-one-more")
    # Approving again: the service refuses, the page says why, nothing changes.
    card.get_by_role("button", name="Approve").click()
    assert first.get_by_role("heading", level=1).inner_text() == "You cannot do this"
    assert "already approved this request" in first.locator("main").inner_text()
    look(first, "approve-again-refused")
    assert ShareApproval.objects.filter(share_request=mx_share).count() == 1

    # --- MX cannot open the case after one approval ------------------------------------------
    mx = browser_page("en")
    sign_in_page(mx, mx_investigator)
    mx.goto(f"/cases/{case.pk}/")
    assert mx.get_by_role("heading", level=1).inner_text() == "Page not found"

    # --- the second US liaison, in Spanish: approves MX, denies GT ---------------------------
    second = browser_page("es")
    second.goto("/signin/")
    switch_language(second, "es")
    sign_in_page(second, us_liaison2)
    assert second.get_by_role("heading", level=1).inner_text() == "Solicitudes por decidir"
    card = second.locator(f"#request-{mx_share.pk}")
    assert "Pendiente de una segunda aprobación" in card.inner_text()
    assert "Aprobada por us.liaison, falta una más." in card.inner_text()
    look(second, "es-inbox")
    card.get_by_label("Nota").fill("Segunda revisión hecha.")
    card.get_by_role("button", name="Aprobar").click()
    assert (f"Aprobada: {case.reference} se comparte con México."
            in second.locator(".messages").inner_text())
    card = second.locator(f"#request-{gt_share.pk}")
    card.get_by_label("Nota").fill("Guatemala no participa en esta operación.")
    card.get_by_role("button", name="Denegar").click()
    assert "Denegada" in second.locator(".messages").inner_text()
    look(second, "es-inbox-decided")
    second.goto(f"/requests/{mx_share.pk}/")
    approvals = second.locator("section[aria-labelledby=approvals-title]").inner_text()
    assert "us.liaison" in approvals and "us.liaison2" in approvals
    assert "Segunda revisión hecha." in approvals
    look(second, "es-request-page")
    mx_share.refresh_from_db()
    gt_share.refresh_from_db()
    assert (mx_share.status, mx_share.decided_by) == (ShareStatus.APPROVED, us_liaison2)
    assert gt_share.status == ShareStatus.DENIED
    drain_outbox()
    assert sorted(AuditEntry.objects.filter(
        action="share.approve", outcome="success").values_list("details__approval", flat=True)
    ) == ["1 of 2", "2 of 2"]

    # --- MX opens the case; its pages name neither GT nor the approvers; it asks to renew ----
    mx.goto(f"/cases/{case.pk}/")
    assert mx.get_by_role("heading", level=1).inner_text().endswith("Ruta del Soconusco")
    mx.goto("/requests/")
    mx.get_by_role("link", name="Approved").first.click()
    assert mx.url.endswith(f"/requests/{mx_share.pk}/")
    text = mx.locator("main").inner_text()
    assert "Guatemala" not in text and "us.liaison" not in text
    look(mx, "mx-request-page")
    mx.get_by_role("link", name="Ask to renew").click()
    mx.fill("#id_justification", "The prosecution needs three more months.")
    later = (mx_share.expires_at + dt.timedelta(days=30)).date().isoformat()
    mx.fill("#id_expires_at", later)
    look(mx, "mx-renew-form")
    mx.get_by_role("button", name="Ask to renew the share").click()
    renewal = ShareRequest.objects.get(renews=mx_share)
    assert mx.url.endswith(f"/requests/{renewal.pk}/")
    assert "Renews" in mx.locator("main").inner_text()
    look(mx, "mx-renewal")

    # --- the first US liaison revokes MX's share: the renewal is cancelled with it ------------
    first.goto("/liaison/grants/")
    row = first.locator(f"#share-{mx_share.pk}")
    assert "us.liaison, us.liaison2" in row.inner_text()
    look(first, "grants")
    row.get_by_role("button", name=f"Revoke {case.reference}").click()
    assert "Revoked:" in first.locator(".messages").inner_text()
    mx.reload()
    assert "Cancelled: the share it renewed was revoked" in mx.locator("main").inner_text()
    look(mx, "mx-renewal-cancelled")

    # --- GT reads its denial and cannot open the case ----------------------------------------
    gt = browser_page("en")
    sign_in_page(gt, gt_investigator)
    gt.goto("/requests/")
    row = gt.locator(f"#request-{gt_share.pk}")
    assert "Denied" in row.inner_text()
    assert "Mexico" not in gt.locator("main").inner_text()
    look(gt, "gt-requests")
    gt.goto(f"/cases/{case.pk}/")
    assert gt.get_by_role("heading", level=1).inner_text() == "Page not found"
