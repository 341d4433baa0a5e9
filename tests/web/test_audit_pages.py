"""The auditors' pages (issue 14): the log, an entry, a case's trail, Verify and Export.

Built on the domain scenario of tests/web/audit_world.py: what each auditor's pages show is
exactly what `audit.selectors.entries_visible_to` gives them, and every read is recorded."""

import csv
import io
import json
import re

import pytest
from django.utils import translation

import audit
from audit import checkpoints
from audit.models import AuditEntry
from audit.selectors import csv_cell, entries_visible_to
from tests.audit.standalone import run
from tests.web import audit_world


@pytest.fixture
def world(make_member, web):
    return audit_world.build(make_member, web)


@pytest.fixture
def auditors(make_member, oversight_auditor):
    return {"US": make_member("US", "auditor", username="us.auditor"),
            "GT": make_member("GT", "auditor", username="gt.auditor"),
            "MX": make_member("MX", "auditor", username="mx.auditor"),
            "oversight": oversight_auditor}


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def test_a_country_auditor_sees_its_side_and_nothing_of_a_partner_case(world, auditors, web):
    case_id = str(world.case.pk)
    gt = entries_visible_to(auditors["GT"])
    assert not gt.filter(case_country="US").exists()
    naming = [e for e in gt if case_id in json.dumps([e.target_id, e.case_id, e.details])]
    # GT's own refused attempt is GT's to read, and the only GT entry naming the case.
    assert [(e.action, e.actor) for e in naming] == [("access.denied", "gt.investigator")]
    html = page(web(auditors["GT"]), "/audit/")
    assert "gt.investigator" in html and "mx.investigator" not in html
    assert "us.liaison" not in html and "Operación Quetzal" not in html

    us_html = page(web(auditors["US"]), "/audit/")
    assert "approved a share request" in us_html and "us.liaison" in us_html
    assert "gt.investigator" not in us_html
    assert not entries_visible_to(auditors["US"]).filter(actor="gt.investigator").exists()

    all_html = page(web(auditors["oversight"]), "/audit/")
    assert "gt.investigator" in all_html and "us.liaison" in all_html
    assert "mx.investigator" in all_html


def test_the_filters_are_the_apis_and_bookmarkable(world, auditors, web):
    client = web(auditors["oversight"])
    html = page(client, f"/audit/?case={world.case.pk}&action=share.approve")
    assert html.count('href="/audit/entries/') == 1
    approve = AuditEntry.objects.get(action="share.approve")
    assert f'href="/audit/entries/{approve.seq}/"' in html
    bad = page(client, "/audit/?case=not-a-uuid&since=yesterday", status=400)
    assert "Some filters were not understood" in bad
    viewed = AuditEntry.objects.filter(action="audit.view", actor="oversight.auditor")
    audit.drain.drain_outbox()
    assert viewed.count() == 1
    assert viewed.get().details["filters"] == {"case": str(world.case.pk),
                                               "action": "share.approve"}


def test_cursor_paging_walks_every_visible_entry_once(world, auditors, web):
    for i in range(60):
        audit.record("case.search", auditors["oversight"], target=("test", str(i)))
    audit.drain.drain_outbox()
    client, seen, url = web(auditors["oversight"]), [], "/audit/?action=case.search"
    while url:
        html = page(client, url)
        seen += [int(s) for s in re.findall(r'href="/audit/entries/(\d+)/"', html)]
        nxt = re.search(r'href="\?([^"]*cursor=\d+)" rel="next"', html)
        url = "/audit/?" + nxt.group(1).replace("&amp;", "&") if nxt else None
    want = list(AuditEntry.objects.filter(action="case.search").order_by("-seq")
                .values_list("seq", flat=True))
    assert seen == want and len(want) >= 60


def test_the_entry_page_shows_every_field_and_its_checkpoint(world, auditors, web):
    approve = AuditEntry.objects.get(action="share.approve")
    checkpoints.checkpoint_create()
    html = page(web(auditors["US"]), f"/audit/entries/{approve.seq}/")
    for value in (approve.hash, approve.prev_hash, approve.request_id or "—", "us.liaison",
                  str(world.case.pk), "approved a share request"):
        assert value in html
    assert "Covered by the checkpoint signed at entry" in html
    assert f'href="/audit/cases/{world.case.pk}/"' in html
    # Another country's entry is not found, like one that does not exist.
    page(web(auditors["GT"]), f"/audit/entries/{approve.seq}/", status=404)
    page(web(auditors["GT"]), "/audit/entries/999999/", status=404)
    page(web(auditors["GT"]), "/audit/entries/nope/", status=404)


def test_the_case_trail_is_in_time_order_and_gated(world, auditors, web):
    html = page(web(auditors["US"]), f"/audit/cases/{world.case.pk}/")
    seqs = [int(s) for s in re.findall(r'href="/audit/entries/(\d+)/"', html)]
    want = list(entries_visible_to(auditors["US"]).filter(case_id=str(world.case.pk))
                .order_by("seq").values_list("seq", flat=True))
    assert seqs == want and len(want) >= 3
    gt = page(web(auditors["GT"]), f"/audit/cases/{world.case.pk}/")
    assert "No entries match." in gt
    page(web(auditors["GT"]), "/audit/cases/not-a-case/", status=400)


def test_verify_runs_the_walk_and_shows_the_checkpoint(world, auditors, web, settings):
    settings.BROKER_CONFIGURED = False  # the embedded default: the walk runs in the request
    checkpoints.checkpoint_create()
    client = web(auditors["MX"])
    before = page(client, "/audit/verify/")
    assert "Verify now" in before and 'id="entries-checked"' not in before
    response = client.post("/audit/verify/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The log is intact" in html and "unwitnessed" in html
    audit.drain.drain_outbox()
    last = checkpoints.AuditCheckpoint.objects.order_by("-seq").first()
    assert f'<dd id="checkpoint-seq">{last.seq}</dd>' in html
    assert 'id="fingerprint">—' not in html
    assert AuditEntry.objects.filter(action="audit.verify", actor="mx.auditor").count() == 1


def export(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


def test_exports_verify_and_the_csv_has_the_same_rows(world, auditors, web, tmp_path):
    client = web(auditors["US"])
    query = f"?case={world.case.pk}"
    response, body = export(client, "/audit/export.jsonl" + query)
    assert response["Content-Type"] == "application/x-ndjson"
    (tmp_path / "audit.jsonl").write_bytes(body)
    result = run("verify_export.py", tmp_path / "audit.jsonl", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    jsonl_seqs = [json.loads(line)["seq"] for line in body.splitlines()]
    response, body = export(client, "/audit/export.csv" + query)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [int(r["seq"]) for r in rows] == jsonl_seqs and len(jsonl_seqs) >= 3
    assert {r["case_country"] for r in rows} == {"US"}
    audit.drain.drain_outbox()
    exports = AuditEntry.objects.filter(action="audit.export", actor="us.auditor")
    assert sorted(e.details.get("format", "jsonl") for e in exports) == ["csv", "jsonl"]


def test_csv_cells_that_would_start_a_formula_are_escaped(auditors, web, drain):
    audit.record("case.search", "=HYPERLINK(\"http://x\")", target=("test", "+1"))
    drain()
    _, body = export(web(auditors["oversight"]), "/audit/export.csv?action=case.search")
    [row] = list(csv.DictReader(io.StringIO(body.decode())))
    assert row["actor"] == "'=HYPERLINK(\"http://x\")" and row["target_id"] == "'+1"
    assert [csv_cell(v) for v in ("-2", "@a", "\tx", "\rx", "a=b", "", None, 5)] == [
        "'-2", "'@a", "'\tx", "'\rx", "a=b", "", "", "5"]


@pytest.mark.parametrize("role", ["investigator", "liaison"])
@pytest.mark.parametrize("country", ["US", "GT", "MX"])
def test_investigators_and_liaisons_get_403_on_every_audit_page(make_member, web, role,
                                                                country, drain):
    member = make_member(country, role)
    client = web(member)
    for url in ("/audit/", "/audit/entries/1/", "/audit/cases/x/", "/audit/verify/",
                "/audit/export.jsonl", "/audit/export.csv"):
        assert client.get(url).status_code == 403, url
    assert client.post("/audit/verify/").status_code == 403
    drain()
    assert not AuditEntry.objects.filter(action__in=("audit.view", "audit.export",
                                                     "audit.verify")).exists()
    assert AuditEntry.objects.filter(action="access.denied", actor=member.username).count() == 7


def test_administrators_get_403_and_auditors_land_on_the_log(administrator, auditors, web):
    assert web(administrator).get("/audit/").status_code == 403
    response = web(auditors["GT"]).get("/")
    assert response.status_code == 302 and response["Location"] == "/audit/"
    html = page(web(auditors["GT"]), "/audit/")
    assert 'href="/audit/" aria-current="page"' in html


def test_a_row_names_its_case_by_the_ids_random_tail_and_links_its_trail(world, auditors, web):
    # Case ids are time-ordered (UUIDv7): their first characters are alike for every case of
    # the same hour, so a row shows the last 12, the full id on hover, and links the trail.
    html = page(web(auditors["US"]), f"/audit/?case={world.case.pk}")
    rows = entries_visible_to(auditors["US"]).filter(case_id=str(world.case.pk)).count()
    tail = str(world.case.pk)[-12:]
    assert 3 <= rows < 50  # one page
    assert html.count(f'<a href="/audit/cases/{world.case.pk}/"><abbr title="{world.case.pk}">'
                      f'…{tail}</abbr></a>') == rows
    assert f"{str(world.case.pk)[:8]}…" not in html


def test_the_verify_page_agrees_in_spanish(world, auditors, web, settings):
    settings.BROKER_CONFIGURED = False
    client = web(auditors["MX"])
    client.cookies["django_language"] = "es"
    with translation.override("es"):
        html = client.post("/audit/verify/").content.decode()
    assert re.search(r"Primera entrada incorrecta</dt><dd>\s*ninguna\s*</dd>", html), html


def test_action_words_are_translated(world, auditors, web):
    client = web(auditors["US"])
    client.cookies["django_language"] = "es"
    with translation.override("es"):
        html = page(client, "/audit/")
    assert "aprobó una solicitud de intercambio" in html


def test_with_a_broker_verify_is_a_job_whose_progress_the_page_shows(world, auditors, web,
                                                                     settings, monkeypatch):
    from audit import tasks, verify_jobs

    settings.BROKER_CONFIGURED = True
    queued = []
    monkeypatch.setattr(tasks.verify_for_auditor, "delay", lambda *a: queued.append(a))
    client = web(auditors["US"])
    response = client.post("/audit/verify/")
    assert response.status_code == 302
    job_id = response["Location"].split("?job=")[1]
    assert queued == [(auditors["US"].pk, job_id)]
    waiting = page(client, f"/audit/verify/?job={job_id}")
    assert "data-verify-running" in waiting and 'id="verify-progress"' in waiting
    assert "The log is intact" not in waiting
    # Only the auditor who started it reads the job; an unknown job is not found either.
    page(web(auditors["oversight"]), f"/audit/verify/?job={job_id}", status=404)
    page(client, "/audit/verify/?job=nope", status=404)

    monkeypatch.setattr(verify_jobs, "_PROGRESS_STEP", 1)
    seen = []
    real_save = verify_jobs._save
    monkeypatch.setattr(verify_jobs, "_save", lambda j, s: (seen.append(s["checked"]),
                                                            real_save(j, s)))
    tasks.verify_for_auditor(auditors["US"].pk, job_id)  # what the worker runs
    total = AuditEntry.objects.count()
    # running at 0, the walk's position (reported once per chunk), done at the end
    assert seen == [0, total, total]
    done = page(client, f"/audit/verify/?job={job_id}")
    assert "The log is intact" in done and "data-verify-running" not in done
    audit.drain.drain_outbox()
    assert AuditEntry.objects.filter(action="audit.verify", actor="us.auditor").count() == 1


def test_the_navigation_marks_one_current_entry(auditors, web):
    html = page(web(auditors["US"]), "/audit/verify/")
    assert html.count('aria-current="page"') == 1
    assert 'href="/audit/verify/" aria-current="page"' in html
