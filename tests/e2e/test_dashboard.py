"""The dashboard in a real browser (issue 15): an MX statistics member uploads a CSV, sees
the dashboard change, switches to Spanish, filters to the MX-GT border and downloads the
CSV. axe-core finds no WCAG 2.1 A/AA violation, the page raises no
`securitypolicyviolation` event, and screenshots are written."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from dashboard.services import flow_import

HEADER = "month,reporting_country,border_segment,location,citizenship,demographic,event_type,count"
# Every securitypolicyviolation the page raises, kept where the test can read it.
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def month_back(months: int) -> dt.date:
    today = timezone.localdate().replace(day=1)
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return dt.date(year, month + 1, 1)


def figures(rows) -> bytes:
    return ("\n".join([HEADER, *(",".join(map(str, r)) for r in rows)]) + "\n").encode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_statistics_member_uploads_filters_in_spanish_and_downloads(
    browser_page, sign_in_page, switch_language, axe_check, screenshot, screenshot_dir,
    make_member, tmp_path,
):
    last = month_back(1)
    label_en = last.strftime("%b %Y")  # "Nov 2026": the page's English month label
    mx = make_member("MX", "statistics", username="mx.statistics")
    gt = make_member("GT", "statistics", username="gt.statistics")
    flow_import(actor=gt, data=figures([(f"{last:%Y-%m}", "GT", "MX-GT", "Tecún Umán", "HN",
                                         "family_unit", "return", 321)]))
    flow_import(actor=mx, data=figures([(f"{last:%Y-%m}", "MX", "MX-GT", "Chiapas", "GT",
                                         "single_adult", "apprehension", 100)]))

    page = browser_page("en")
    page.add_init_script(WATCH_CSP)
    sign_in_page(page, mx)
    page.get_by_role("link", name="Dashboard").click()
    mx_cell = page.locator(f'#flows-month tbody tr:has(th:text-is("{label_en}")) td').nth(1)
    assert mx_cell.inner_text() == "100"
    axe_check(page)
    screenshot(page, "dashboard-01-before")

    # --- the upload: a revision replacing last month, adding the month before --------------
    upload = tmp_path / "mx-flows.csv"
    upload.write_bytes(figures([
        (f"{last:%Y-%m}", "MX", "MX-GT", "Chiapas", "GT", "single_adult", "apprehension", 1500),
        (f"{last:%Y-%m}", "MX", "US-MX", "Chihuahua", "VE", "family_unit", "rescue", 40),
        (f"{month_back(2):%Y-%m}", "MX", "MX-GT", "Tabasco", "HN", "unknown", "return", 7),
    ]))
    page.get_by_role("link", name="Import your country's flow figures").click()
    axe_check(page)
    page.set_input_files("#id_file", str(upload))
    page.get_by_role("button", name="Import the figures").click()
    page.wait_for_url("**/dashboard/")
    assert "Revision" in page.locator(".messages").inner_text()
    assert mx_cell.inner_text() == "1,540"  # the dashboard changed: 1,500 + 40
    screenshot(page, "dashboard-02-after-upload")

    # --- Spanish, then the MX-GT border only ------------------------------------------------
    switch_language(page, "es")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Flujos migratorios y cifras del grupo"
    page.select_option("#id_segment", "MX-GT")
    page.get_by_role("button", name="Mostrar las cifras").click()
    page.wait_for_url("**segment=MX-GT**")
    label_es = page.locator("#flows-month tbody th").nth(22).inner_text()
    assert label_es.split()[0] in {"Ene", "Feb", "Mar", "Abr", "May", "Jun", "Jul", "Ago",
                                   "Sep", "Oct", "Nov", "Dic"}
    mx_cell = page.locator("#flows-month tbody tr").nth(22).locator("td").nth(1)
    assert mx_cell.inner_text().replace("\xa0", " ") == "1 500"  # without the US-MX rescue
    assert "eventos, no personas" in page.locator("#flows-month h3").inner_text()
    axe_check(page)
    screenshot(page, "dashboard-03-es-mx-gt")
    # one panel at full resolution: the chart, its legend and its table
    page.locator("#flows-month").screenshot(path=str(screenshot_dir / "dashboard-04-panel.png"))

    # --- the CSV of exactly what is shown ---------------------------------------------------
    with page.expect_download() as waiting:
        page.locator("#flows-month .downloads a").first.click()
    download = waiting.value
    assert download.suggested_filename.startswith("flows-month-")
    body = open(download.path(), encoding="utf-8").read()
    records = list(csv.reader(io.StringIO(body)))
    meta = [r[0] for r in records if len(r) == 1 and r[0].startswith("# ")]
    assert "# unit: eventos, no personas" in meta
    assert any(m.startswith("# filters: ") and "segment=MX-GT" in m for m in meta)
    rows = {r[0]: r for r in records if len(r) > 1}
    assert rows[f"{last:%Y-%m}"][2:] == ["321", "1500", "0", "1821"]  # GT, MX, US, total
    assert rows[f"{month_back(2):%Y-%m}"][3] == "7"

    assert page.evaluate("window.__csp") == []
