"""The frame as people meet it: a tablet's screen, a keyboard, and a browser without
JavaScript (the upload form still works; the progress bar is only an addition)."""

import pytest

from cases import services
from cases.models import Attachment

PDF = b"%PDF-1.4\n" + b"% a small scan\n" * 100 + b"%%EOF\n"


@pytest.fixture
def case(us_investigator):
    case = services.case_create(actor=us_investigator, title="Ruta del Pacífico",
                                case_type="smuggling", handling_code="H3",
                                handling_note="Not for the press office.")
    services.subject_add(case=case, actor=us_investigator, full_name="Óscar Villeda",
                         role="transporter",
                         identifiers=[{"identifier_type": "vehicle_plate",
                                       "value": "GT 123-ABC"}])
    return case


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tablet_shows_the_pages_without_sideways_scrolling_and_keys_reach_everything(
    browser_page, sign_in_page, axe_check, screenshot, us_investigator, case
):
    page = browser_page("en", viewport={"width": 768, "height": 1024})
    page.goto("/signin/")
    sign_in_page(page, us_investigator)
    for path, name in (("/cases/", "tablet-cases"), (f"/cases/{case.pk}/", "tablet-case")):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        axe_check(page)
        screenshot(page, name)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    assert "Not for the press office." in page.locator(".handling").inner_text()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_upload_form_works_without_javascript(
    new_context, sign_in_page, screenshot, us_investigator, case, tmp_path
):
    context = new_context(java_script_enabled=False, locale="en")
    page = context.new_page()
    page.goto("/signin/")
    sign_in_page(page, us_investigator)
    page.goto(f"/cases/{case.pk}/")
    path = tmp_path / "scan.pdf"
    path.write_bytes(PDF)
    page.set_input_files("#evidence-file", str(path))
    page.get_by_role("button", name="Upload the file").click()
    page.wait_for_load_state()
    assert "scan.pdf uploaded" in page.locator(".messages").inner_text()
    assert Attachment.objects.filter(case=case, filename="scan.pdf").exists()
    screenshot(page, "no-javascript-upload")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_phone_keeps_the_spanish_header_inside_the_screen(
    browser_page, sign_in_page, screenshot, us_liaison
):
    page = browser_page("es", viewport={"width": 390, "height": 844})
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto("/signin/")
    sign_in_page(page, us_liaison)
    page.goto("/liaison/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    header = page.locator(".site-header").bounding_box()
    for link in page.locator(".site-nav a").all():
        box = link.bounding_box()
        assert box["x"] >= header["x"] and box["x"] + box["width"] <= header["x"] + header["width"]
        assert box["y"] + box["height"] <= header["y"] + header["height"]
    screenshot(page, "phone-inbox-es")
    assert missing == []  # the favicon too


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_spanish_requests_table_and_the_audit_filters_fit_a_laptop(
    browser_page, sign_in_page, screenshot, us_investigator, mx_investigator, us_liaison,
    oversight_auditor
):
    import datetime as dt

    from django.utils import timezone

    from sharing import services as sharing

    for number in range(3):
        case = services.case_create(actor=us_investigator, title=f"Ruta del Pacífico {number}",
                                    case_type="smuggling", handling_code="H1")
        share = sharing.share_request_open(
            requester=us_investigator, case=case, recipient_country=mx_investigator.country,
            scope="full", justification="Nombres, fechas de nacimiento e identificadores",
            expires_at=timezone.now() + dt.timedelta(days=90))
        if number:
            sharing.share_request_approve(share_request=share, liaison=us_liaison,
                                          note="Approved for the joint investigation")
    own = services.case_create(actor=mx_investigator, title="Ruta del Soconusco",
                               case_type="smuggling", handling_code="H2")
    sharing.share_requests_offer(
        requester=mx_investigator, case=own, recipient_countries=[us_investigator.country],
        scope="full", justification="Operación conjunta",
        expires_at=timezone.now() + dt.timedelta(days=90))
    page = browser_page("es", viewport={"width": 1280, "height": 900})
    page.goto("/signin/")
    sign_in_page(page, mx_investigator)
    page.goto("/requests/")
    assert page.locator("table").count() == 1
    assert page.evaluate("[...document.querySelectorAll('.table-wrap')].every("
                         "w => w.scrollWidth <= w.clientWidth)")
    screenshot(page, "requests-es-1280")
    page = browser_page("es", viewport={"width": 1280, "height": 900})
    page.goto("/signin/")
    sign_in_page(page, oversight_auditor)
    page.goto("/audit/")
    panel = page.locator("form.search").bounding_box()
    for box in [e.bounding_box() for e in page.locator("form.search select").all()]:
        assert box["x"] + box["width"] <= panel["x"] + panel["width"]
    screenshot(page, "audit-filters-es-1280")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_every_field_shows_the_same_focus_ring(browser_page, sign_in_page, us_investigator, case):
    page = browser_page("en")
    page.goto("/signin/")
    sign_in_page(page, us_investigator)
    page.goto(f"/cases/{case.pk}/")
    rings = []
    for selector in ("textarea", "input[type='date']", "button[type='submit']"):
        field = page.locator(f"form[action$='/offer/'] {selector}").first
        field.focus()
        rings.append(field.evaluate("e => { const s = getComputedStyle(e);"
                                    " return [s.outlineStyle, s.outlineWidth]; }"))
    assert rings == [["solid", "3px"]] * 3
