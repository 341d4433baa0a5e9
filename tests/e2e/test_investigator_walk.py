"""The investigators' walk of issue 13, in a real browser, in English and in Spanish.

A US investigator opens case A with a victim and two identifiers, uploads a 5 MiB PDF over a
connection throttled to about 1 MB/s (the progress bar moves), finds case A by the
subject's name and offers it to MX. An MX investigator looks up an identifier of US case B,
sees that the US holds it and asks for access; a second request for the same case is
refused, naming the open one. A GT investigator opening case A's address gets the
not-found page. Every page is checked with axe-core and photographed.
"""

from __future__ import annotations

import re
import time

import pytest
from django.utils import formats, timezone, translation

from cases import services
from cases.models import Case
from sharing.models import ShareRequest

TEXT = {
    "en": {"cases": "Cases", "open_case": "Open a new case", "open": "Open the case",
           "add_subject": "Add a subject", "add": "Add the subject", "upload": "Upload the file",
           "search": "Search", "offer": "Offer the case", "lookup": "Look it up",
           "held": "Held by US", "ask": "Ask for access", "pending": "already pending",
           "victim": "Victim: protected", "uploaded": "uploaded", "requests": "Share requests",
           "not_found": "Page not found", "bad_phone": "not a valid phone number"},
    "es": {"cases": "Casos", "open_case": "Abrir un caso nuevo", "open": "Abrir el caso",
           "add_subject": "Añadir una persona", "add": "Añadir la persona",
           "upload": "Subir el archivo", "search": "Buscar", "offer": "Ofrecer el caso",
           "lookup": "Consultar", "held": "En poder de US", "ask": "Solicitar acceso",
           "pending": "pendiente", "victim": "Víctima: protegida", "uploaded": "subido",
           "requests": "Solicitudes de intercambio", "not_found": "Página no encontrada",
           "bad_phone": "no es un número de teléfono válido"},
}
PDF_BYTES = 5 * 1024 * 1024


def make_pdf(path):
    """A 5 MiB file whose content is a PDF (the upload sniffs it)."""
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
    filler = (b"% evidence scan line " + b"0123456789" * 6 + b"\n")
    body = head + filler * ((PDF_BYTES - len(head) - 6) // len(filler))
    body += b" " * (PDF_BYTES - len(body) - 6) + b"%%EOF\n"
    path.write_bytes(body)
    return path


def localised_today(language):
    with translation.override(language):
        return formats.date_format(timezone.now(), "DATE_FORMAT")


def upload_with_progress(page, path, button):
    """Choose the file, send it, and read the progress bar until the outcome is shown."""
    page.set_input_files("#evidence-file", str(path))
    page.get_by_role("button", name=button).click()
    seen, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        value = page.evaluate(
            "() => { const p = document.querySelector('#upload-progress');"
            " return p && !p.closest('[hidden]') ? p.value : null; }")
        if value is None and seen:
            break  # the case page's new content replaced the form: the outcome is shown
        if value is not None and (not seen or seen[-1] != value):
            seen.append(value)
        time.sleep(0.05)
    return seen


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_investigators_walk(
    language, browser_page, sign_in_page, switch_language, axe_check, screenshot, throttle,
    us_investigator, mx_investigator, gt_investigator, make_member, tmp_path,
):
    t = TEXT[language]
    step = iter(range(1, 100))

    def look(page, name):
        axe_check(page)
        screenshot(page, f"{language}-{next(step):02d}-{name}")

    # Case B, another US investigator's, holds a passport the MX investigator will look up.
    author = make_member("US", "investigator", username="us.colleague")
    case_b = services.case_create(actor=author, title="Red de transporte Tijuana",
                                  case_type="smuggling", summary="Transport ring.")
    services.subject_add(case=case_b, actor=author, full_name="Hector Ruiz", role="transporter",
                         identifiers=[{"identifier_type": "passport", "value": "G7654321"}])

    # --- US: sign in, land on the cases, open case A ---------------------------------------
    us = browser_page("en")
    us.goto("/signin/")
    if language == "es":
        switch_language(us, "es")
    look(us, "signin")
    sign_in_page(us, us_investigator)
    assert us.url.endswith("/cases/")
    assert us.get_by_role("heading", level=1).inner_text() == t["cases"]
    look(us, "cases-empty")
    us.get_by_role("link", name=t["open_case"]).click()
    look(us, "case-new")
    us.fill("#id_title", "Operación Quetzal")
    us.select_option("#id_case_type", "trafficking")
    us.fill("#id_summary", "Recruitment through fake job offers in Tapachula.")
    us.select_option("#id_handling_code", "H2")
    us.get_by_role("button", name=t["open"]).click()
    case_a = Case.objects.get(title="Operación Quetzal")
    assert us.url.endswith(f"/cases/{case_a.pk}/")
    banner = us.locator(".handling").inner_text()
    assert "H2" in banner and case_a.get_handling_code_display() != ""
    assert localised_today(language) in us.locator(".case-facts").inner_text()
    look(us, "case-a")

    # --- a victim with two identifiers; one wrong value first, shown beside its field ------
    us.get_by_role("link", name=t["add_subject"]).click()
    us.fill("#id_full_name", "Ana Lucía Choc")
    us.select_option("#id_role", "victim")
    us.fill("#id_aliases", "La Güera")
    us.select_option("#id_identifiers-0-identifier_type", "passport")
    us.fill("#id_identifiers-0-value", "X1234567")
    us.select_option("#id_identifiers-1-identifier_type", "phone")
    us.fill("#id_identifiers-1-value", "12")
    us.get_by_role("button", name=t["add"]).click()
    assert us.locator(".error-summary").is_visible()
    assert us.locator("#id_identifiers-1-value_error").inner_text() == t["bad_phone"]
    look(us, "subject-error")
    us.fill("#id_identifiers-1-value", "+502 5555 1234")
    us.get_by_role("button", name=t["add"]).click()
    assert us.url.endswith(f"/cases/{case_a.pk}/")
    subject = us.locator("article.subject")
    assert "Ana Lucía Choc" in subject.inner_text() and t["victim"] in subject.inner_text()
    assert "X1234567" in subject.inner_text()

    # --- a 5 MiB PDF over a ~1 MB/s connection: the bar moves ------------------------------
    pdf = make_pdf(tmp_path / "informe-quetzal.pdf")
    session = throttle(us, 1_000_000)
    seen = upload_with_progress(us, pdf, t["upload"])
    session.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    intermediate = sorted({v for v in seen if 0 < v < 100})
    assert len(intermediate) >= 3, seen
    assert "informe-quetzal.pdf" in us.locator("#evidence").inner_text()
    assert t["uploaded"] in us.locator(".messages").inner_text()
    look(us, "case-a-with-file")
    with us.expect_download() as download:
        us.get_by_role("link", name="informe-quetzal.pdf").click()
    assert download.value.suggested_filename == "informe-quetzal.pdf"

    # --- find case A by the subject's name ---------------------------------------------------
    us.get_by_role("navigation").get_by_role("link", name=t["cases"]).click()
    us.fill("#id_q", "Choc")
    us.get_by_role("button", name=t["search"], exact=True).click()
    assert "q=Choc" in us.url
    rows = us.locator("tbody tr")
    assert rows.count() == 1 and case_a.reference in rows.first.inner_text()
    look(us, "cases-search")

    # --- offer case A to MX ----------------------------------------------------------------
    us.get_by_role("link", name=case_a.reference).click()
    us.check("input[name=recipient_countries][value=MX]")
    us.check("#id_scope_1")  # full
    us.fill("#id_justification", "Joint operation with the Mexican unit.")
    us.get_by_role("button", name=t["offer"]).click()
    assert ShareRequest.objects.filter(case=case_a, recipient_country="MX",
                                       status="pending").count() == 1
    look(us, "case-a-offered")

    # --- MX: a lookup of case B's passport, then asking for access ---------------------------
    mx = browser_page(language)
    mx.goto("/signin/")
    sign_in_page(mx, mx_investigator)
    mx.goto("/lookup/")
    look(mx, "lookup")
    mx.select_option("#id_identifier_type", "passport")
    mx.fill("#id_value", "g765 4321")
    mx.get_by_role("button", name=t["lookup"]).click()
    assert t["held"] in mx.locator(".result").inner_text()
    assert case_b.reference not in mx.content()
    look(mx, "lookup-hit")
    mx.fill("#id_0-justification", "The passport appears in our smuggling case.")
    mx.get_by_role("button", name=t["ask"]).click()
    assert mx.url.endswith("/requests/")
    assert mx.get_by_role("heading", level=1).inner_text() == t["requests"]
    assert ShareRequest.objects.filter(case=case_b, recipient_country="MX").count() == 1
    look(mx, "requests")

    # --- asking again while the first is pending: refused, naming the open one --------------
    mx.goto("/lookup/")
    mx.select_option("#id_identifier_type", "passport")
    mx.fill("#id_value", "G7654321")
    mx.get_by_role("button", name=t["lookup"]).click()
    mx.fill("#id_0-justification", "Asking once more.")
    response_status = {}
    mx.on("response", lambda r: response_status.setdefault(r.url, r.status))
    mx.get_by_role("button", name=t["ask"]).click()
    mx.wait_for_load_state()
    assert response_status.get(mx.url) == 409
    open_one = ShareRequest.objects.get(case=case_b, recipient_country="MX")
    problem = mx.locator("main [role=alert]").first.inner_text()
    assert t["pending"] in problem and str(open_one.pk) in problem
    assert ShareRequest.objects.filter(case=case_b, recipient_country="MX").count() == 1
    look(mx, "ask-again-refused")

    # --- GT: case A's address is not found ---------------------------------------------------
    gt = browser_page(language)
    gt.goto("/signin/")
    sign_in_page(gt, gt_investigator)
    answer = gt.goto(f"/cases/{case_a.pk}/")
    assert answer.status == 404
    assert gt.get_by_role("heading", level=1).inner_text() == t["not_found"]
    assert "Operación Quetzal" not in gt.content()
    look(gt, "not-found")
    if language == "es":
        assert re.search(r"\bde\b", localised_today("es"))
