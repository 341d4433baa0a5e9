"""The dashboard's pages: every member sees them, charts are accessible SVG within the CSP,
CSVs carry their metadata and defuse formulas, Spanish is localised, statistics members import."""

import re

import pytest
from django.test import override_settings

from dashboard.export import escape_cell
from dashboard.models import FlowFigure, FlowRevision
from dashboard.services import flow_import
from tests.dashboard.conftest import TODAY, csv_file

ROW = ("2026-01", "MX", "MX-GT", "Chiapas", "GT", "single_adult", "apprehension", 1234)
PERIOD = "month_from=2026-01&month_to=2026-03"


@pytest.fixture
def mx_figures(db, mx_statistics):
    return flow_import(actor=mx_statistics, data=csv_file(ROW), today=TODAY)


@pytest.mark.parametrize("persona", ["us_investigator", "mx_liaison", "gt_auditor",
                                     "mx_statistics", "administrator"])
def test_every_member_sees_the_dashboard(db, web, request, persona, mx_figures):
    response = web(request.getfixturevalue(persona)).get(f"/dashboard/?{PERIOD}")
    assert response.status_code == 200
    assert b"events, not people" in response.content


def test_signed_out_visitors_are_sent_to_sign_in(db, client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/signin/" in response.url


def test_every_chart_is_an_svg_with_title_desc_and_no_inline_style_or_script(db, web,
                                                                              us_investigator,
                                                                              mx_figures):
    html = web(us_investigator).get(f"/dashboard/?{PERIOD}").content.decode()
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(charts) == 11
    for svg in charts:
        slug = re.search(r'aria-labelledby="([\w-]+)-title', svg).group(1)
        assert f'<title id="{slug}-title">' in svg and f'<desc id="{slug}-desc">' in svg
        assert 'role="img"' in svg
    assert not re.search(r"<script|<style|\sstyle=|\son\w+=", html)
    # the MX figure is drawn, with its value in the bar's title and in the table
    assert "Jan 2026, MX: 1,234" in html and 'data-value="1234"' in html


def test_filters_live_in_the_url_and_narrow_the_flow_figures(db, web, us_investigator,
                                                             mx_statistics):
    flow_import(actor=mx_statistics, data=csv_file(
        ROW, ("2026-01", "MX", "US-MX", "Chihuahua", "HN", "unknown", "rescue", 7)), today=TODAY)
    client = web(us_investigator)
    everything = client.get(f"/dashboard/csv/flows-month/?{PERIOD}").content.decode()
    assert "2026-01,Jan 2026,0,1241,0,1241" in everything
    narrowed = client.get(f"/dashboard/csv/flows-month/?{PERIOD}&segment=MX-GT").content.decode()
    assert "2026-01,Jan 2026,0,1234,0,1234" in narrowed
    assert "# filters: month_from=2026-01; month_to=2026-03; segment=MX-GT" in narrowed


def test_bad_filters_are_named_and_the_defaults_shown(db, web, us_investigator):
    response = web(us_investigator).get("/dashboard/?month_from=2026-13&segment=XX")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a month as YYYY-MM." in html and "Select a valid choice." in html


def test_the_csv_carries_its_metadata_and_the_demonstration_label(db, web, us_investigator,
                                                                  mx_statistics):
    flow_import(actor=mx_statistics, data=csv_file(ROW), today=TODAY, demonstration=True)
    body = web(us_investigator).get(f"/dashboard/csv/flows-demographic/?{PERIOD}")
    text = body.content.decode()
    assert body["Content-Disposition"] == (
        'attachment; filename="flows-demographic-2026-01-2026-03.csv"')
    lines = text.splitlines()
    assert lines[0] == "# title: Demographic split"
    assert lines[1].startswith("# source: flow figures submitted by each country")
    assert re.match(r"# as of: GT -; MX \d{4}-\d\d-\d\d \d\d:\d\d UTC; US -", lines[2])
    assert lines[3] == '"# unit: events, not people"'
    assert lines[4] == "# rounding: none: flow figures as each country submitted them"
    assert "# note: demonstration data, not official figures" in text
    assert "single_adult,Single adult,1234,1234" in text


def test_the_export_marked_for_publication_rounds_every_count(db, web, mx_statistics,
                                                              mx_figures):
    text = web(mx_statistics).get(f"/dashboard/csv/flows-demographic/?{PERIOD}&publication=1"
                                  ).content.decode()
    assert "single_adult,Single adult,1230,1230" in text
    assert "marked for publication" in text


@pytest.mark.parametrize(("value", "shown"), [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-2", "'-2"), ("@SUM", "'@SUM"),
    ("\tx", "'\tx"), ("Chiapas", "Chiapas"), (12, "12"), (None, ""),
])
def test_cells_that_a_spreadsheet_would_run_are_defused(value, shown):
    assert escape_cell(value) == shown


def test_an_unknown_table_is_not_found(db, web, us_investigator):
    assert web(us_investigator).get("/dashboard/csv/cases-list/").status_code == 404


@override_settings(LANGUAGE_CODE="es")
def test_spanish_months_numbers_and_labels(db, web, us_investigator, mx_figures):
    client = web(us_investigator)
    client.cookies["django_language"] = "es"
    html = client.get(f"/dashboard/?{PERIOD}", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in html
    assert "eventos, no personas" in html
    # Spanish month names, and Django's Spanish grouping (a no-break space)
    assert "Ene 2026, MX: 1\xa0234" in html and 'data-value="1234">1\xa0234<' in html
    assert "Guatemala (GT)" in html and "Estados Unidos (US)" in html
    # each table's first column says what its rows are, never "Fila"
    month_table = html.split('aria-label="Tabla: Eventos por mes', 1)[1].split("</thead>", 1)[0]
    assert '<thead><tr><th scope="col">Mes</th>' in month_table
    assert '<th scope="col">Estado</th>' in html and ">Fila<" not in html


def test_a_statistics_member_imports_from_the_page(db, web, mx_statistics):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = web(mx_statistics)
    page = client.get("/dashboard/import/")
    assert page.status_code == 200
    upload = SimpleUploadedFile("mx.csv", csv_file(ROW), content_type="text/csv")
    response = client.post("/dashboard/import/", {"file": upload})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert response.url == "/dashboard/"
    assert FlowFigure.objects.get().count == 1234
    assert "mx.statistics" in client.get("/dashboard/import/").content.decode()


def test_the_page_lists_every_problem_and_stores_nothing(db, web, mx_statistics):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = csv_file(ROW[:7] + ("-1",), ROW[:4] + ("ZZ",) + ROW[5:])
    response = web(mx_statistics).post("/dashboard/import/",
                                       {"file": SimpleUploadedFile("bad.csv", bad)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Line 2, column count: a negative count (-1)" in html
    assert "Line 3, column citizenship: unknown citizenship code &#x27;ZZ&#x27;" in html
    assert FlowRevision.objects.count() == 0


@pytest.mark.parametrize("persona", ["us_investigator", "mx_liaison", "gt_auditor",
                                     "administrator"])
def test_only_statistics_members_reach_the_import_page(db, web, request, persona):
    assert web(request.getfixturevalue(persona)).get("/dashboard/import/").status_code == 403


def test_the_api_imports_a_csv_body_and_lists_the_countrys_revisions(db, api, mx_statistics):
    client = api(mx_statistics)
    created = client.post("/api/v1/flows/imports/", data=csv_file(ROW),
                          content_type="text/csv")
    assert created.status_code == 201
    assert created.json()["rows"] == 1 and created.json()["months"] == ["2026-01"]
    listed = client.get("/api/v1/flows/imports/").json()
    assert [r["id"] for r in listed["results"]] == [created.json()["id"]]


def test_the_api_refuses_a_bad_file_naming_every_problem(db, api, mx_statistics):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = csv_file(ROW[:2] + ("MX-XX",) + ROW[3:])
    response = api(mx_statistics).post("/api/v1/flows/imports/",
                                       {"file": SimpleUploadedFile("bad.csv", bad)},
                                       format="multipart")
    assert response.status_code == 400
    assert response.json()["problems"] == [{
        "line": 2, "column": "border_segment",
        "message": "unknown border segment 'MX-XX' (choose from US-MX, MX-GT, other)"}]
    assert FlowRevision.objects.count() == 0


def test_the_api_refuses_other_roles_with_403(db, api, us_investigator):
    response = api(us_investigator).post("/api/v1/flows/imports/", data=csv_file(ROW),
                                         content_type="text/csv")
    assert response.status_code == 403 and "detail" in response.json()


def test_a_forged_import_form_is_refused_and_stores_nothing(db, web, mx_statistics):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = web(mx_statistics)
    client.handler.enforce_csrf_checks = True
    response = client.post("/dashboard/import/", {"file": SimpleUploadedFile("mx.csv",
                                                                             csv_file(ROW))})
    assert response.status_code == 403
    assert FlowRevision.objects.count() == 0


def test_no_case_subject_or_identifier_is_reachable_through_the_dashboard(db, web, make_case,
                                                                          mx_investigator):
    from cases.services import subject_add
    from dashboard.selectors import TABLE_SLUGS

    case = make_case("US", title="Operación Colibrí", summary="Ruta por Tecún Umán")
    subject_add(case=case, actor=case.created_by, full_name="Rosa Imelda Pérez", role="recruiter",
                identifiers=[{"identifier_type": "passport", "value": "P4455667"}])
    client = web(mx_investigator)
    bodies = [client.get("/dashboard/").content.decode()]
    bodies += [client.get(f"/dashboard/csv/{slug}/").content.decode() for slug in TABLE_SLUGS]
    bodies += [client.get(f"/dashboard/csv/{slug}/?publication=1").content.decode()
               for slug in TABLE_SLUGS]
    for body in bodies:
        for secret in (case.reference, str(case.pk), "Colibrí", "Tecún", "Rosa Imelda",
                       "P4455667"):
            assert secret not in body
