"""The auditors' walk of issue 14, in a real browser, in English and once in Spanish.

Set up with the domain services (tests/web/audit_world.py): an MX investigator's lookup hit
on a US H1 case, a request from it approved by a US liaison, a GT investigator's refused
attempt to open the US case. The GT auditor sees none of the US side (only GT's own refused
attempt), the US auditor sees the US side, the oversight auditor sees all, filters by the
case, opens an entry and its case trail, verifies (OK, with the checkpoint), and exports
JSON Lines that docs/audit.md's stand-alone verifier accepts and a CSV with the same rows.
Every page is checked with axe-core and photographed.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from audit import checkpoints
from audit.drain import drain_outbox
from audit.models import AuditEntry
from tests.audit.standalone import run
from tests.web import audit_world

TEXT = {
    "en": {"log": "Audit log", "filter": "Filter", "intact": "The log is intact",
           "verify": "Verify now", "approved": "approved a share request",
           "trail": "This case's trail", "covered": "Covered by the checkpoint",
           "jsonl": "Export these entries as JSON Lines (verifiable)",
           "csv": "Export these entries as CSV", "unwitnessed": "unwitnessed"},
    "es": {"log": "Registro de auditoría", "filter": "Filtrar",
           "intact": "El registro está íntegro", "verify": "Verificar ahora",
           "approved": "aprobó una solicitud de intercambio", "trail": "Rastro de este caso",
           "covered": "Cubierta por el punto de control",
           "jsonl": "Exportar estas entradas como JSON Lines (verificable)",
           "csv": "Exportar estas entradas como CSV", "unwitnessed": "sin testigos"},
}


def download(page, link_name, target):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    info.value.save_as(str(target))
    return target.read_bytes()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_auditors_walk(language, browser_page, sign_in_page, switch_language, axe_check,
                           screenshot, make_member, web, tmp_path):
    t = TEXT[language]
    step = iter(range(1, 100))

    def look(page, name):
        axe_check(page)
        screenshot(page, f"auditor-{language}-{next(step):02d}-{name}")

    world = audit_world.build(make_member, web)
    case_id = str(world.case.pk)
    checkpoints.checkpoint_create()
    auditors = {code: make_member(code, "auditor", username=f"{code.lower()}.auditor")
                for code in ("US", "GT")}
    oversight = make_member("MX", "auditor", oversight=True, username="oversight.auditor")

    def signed_in(user):
        page = browser_page("en")
        page.goto("/signin/")
        if language == "es":
            switch_language(page, "es")
        sign_in_page(page, user)
        assert page.url.endswith("/audit/"), "auditors land on the audit log"
        assert page.get_by_role("heading", level=1).inner_text() == t["log"]
        return page

    # --- GT: nothing of the US side; GT's own refused attempt is GT's to see ---------------
    gt = signed_in(auditors["GT"])
    look(gt, "gt-log")
    rows = gt.locator("main tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert texts and not any("(US)" in row and "Case" in row for row in texts)
    assert not any("us.liaison" in row or "mx.investigator" in row for row in texts)
    assert any("gt.investigator" in row for row in texts)
    naming = [row for row in texts if case_id in row]
    assert naming and all("gt.investigator" in row and "access.denied" in row for row in naming)
    gt_html = gt.goto(f"/audit/cases/{case_id}/")
    assert gt_html.status == 200 and "us.liaison" not in gt.content()

    # --- US: the US side, not GT's refusal ---------------------------------------------------
    us = signed_in(auditors["US"])
    assert t["approved"] in us.content() and "gt.investigator" not in us.content()
    look(us, "us-log")

    # --- Oversight: all of it; filter by the case, open an entry, its trail ----------------
    ov = signed_in(oversight)
    assert "gt.investigator" in ov.content() and "us.liaison" in ov.content()
    ov.locator("#id_case").fill(case_id)
    ov.get_by_role("button", name=t["filter"]).click()
    ov.wait_for_url(f"**/audit/?*case={case_id}*")
    want = list(AuditEntry.objects.filter(case_id=case_id).order_by("-seq")
                .values_list("seq", flat=True))
    seqs = [int(s) for s in ov.locator("main tbody tr td:first-child a").all_inner_texts()]
    assert seqs == want
    look(ov, "oversight-filtered")
    approve = AuditEntry.objects.get(action="share.approve")
    ov.get_by_role("link", name=str(approve.seq), exact=True).click()
    ov.wait_for_url(f"**/audit/entries/{approve.seq}/")
    assert approve.hash in ov.content() and t["covered"] in ov.content()
    look(ov, "entry")
    ov.get_by_role("link", name=t["trail"]).click()
    ov.wait_for_url(f"**/audit/cases/{case_id}/")
    trail = [int(s) for s in ov.locator("main tbody tr td:first-child a").all_inner_texts()]
    assert trail == sorted(want)
    look(ov, "trail")

    # --- Verify ----------------------------------------------------------------------------
    ov.goto("/audit/verify/")
    ov.get_by_role("button", name=t["verify"]).click()
    ov.wait_for_load_state()
    assert ov.get_by_role("heading", level=2, name=t["intact"]).is_visible()
    last = checkpoints.AuditCheckpoint.objects.order_by("-seq").first()
    assert ov.locator("#checkpoint-seq").inner_text() == str(last.seq)
    assert ov.locator("#fingerprint").inner_text().count(":") == 7
    assert ov.locator("#witnessing").inner_text() == t["unwitnessed"]
    look(ov, "verify")

    # --- Export the filtered view: verifiable JSON Lines and the same rows as CSV ----------
    ov.goto(f"/audit/?case={case_id}")
    jsonl = download(ov, t["jsonl"], tmp_path / "audit.jsonl")
    result = run("verify_export.py", tmp_path / "audit.jsonl", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    lines = [json.loads(line) for line in jsonl.splitlines()]
    body = download(ov, t["csv"], tmp_path / "audit.csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [int(r["seq"]) for r in rows] == [line["seq"] for line in lines] == sorted(want)
    assert [r["hash"] for r in rows] == [line["hash"] for line in lines]
    drain_outbox()
    formats = sorted(e.details.get("format", "jsonl") for e in
                     AuditEntry.objects.filter(action="audit.export", actor="oversight.auditor"))
    assert formats == ["csv", "jsonl"]
