"""flow_import: all or nothing, every problem named by line and column, revisions kept."""

import hashlib

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEntry, OutboxEvent
from dashboard.models import FlowFigure, FlowRevision
from dashboard.services import FlowFileRejected, flow_import
from tests.dashboard.conftest import TODAY, csv_file

GOOD = ("2026-01", "MX", "MX-GT", "Chiapas", "GT", "single_adult", "apprehension", 120)


def problems_of(user, data):
    with pytest.raises(FlowFileRejected) as caught:
        flow_import(actor=user, data=data, today=TODAY)
    return [(p.line, p.column, str(p.message)) for p in caught.value.problems]


def test_a_file_with_the_ten_kinds_of_error_is_refused_naming_each_and_storing_nothing(
        db, mx_statistics):
    data = csv_file(
        GOOD,                                                                            # 2
        ("2026-01", "MX", "MX-BZ", "Chiapas", "GT", "single_adult", "apprehension", 1),  # 3
        ("2026-01", "MX", "MX-GT", "Chiapas", "ZZ", "single_adult", "apprehension", 1),  # 4
        ("2026-01", "MX", "MX-GT", "Chiapas", "GT", "elderly", "apprehension", 1),       # 5
        ("2026-01", "MX", "MX-GT", "Chiapas", "GT", "family_unit", "detention", 1),      # 6
        ("2026-01", "MX", "MX-GT", "Tabasco", "GT", "single_adult", "apprehension", -3),  # 7
        ("2026-01", "MX", "MX-GT", "Tabasco", "HN", "single_adult", "apprehension", 2.5),  # 8
        ("2026-07", "MX", "MX-GT", "Chiapas", "GT", "single_adult", "apprehension", 1),  # 9
        ("2026-13", "MX", "MX-GT", "Chiapas", "GT", "single_adult", "apprehension", 1),  # 10
        GOOD,                                                                            # 11
        ("2026-01", "US", "US-MX", "El Paso", "MX", "single_adult", "encounter", 5),     # 12
    )
    found = problems_of(mx_statistics, data)
    assert [(line, column) for line, column, _ in found] == [
        (3, "border_segment"), (4, "citizenship"), (5, "demographic"), (6, "event_type"),
        (7, "count"), (8, "count"), (9, "month"), (10, "month"),
        (11, "month,border_segment,location,citizenship,demographic,event_type"),
        (12, "reporting_country"),
    ]
    messages = [message for _, _, message in found]
    assert "unknown border segment 'MX-BZ'" in messages[0]
    assert "unknown citizenship code 'ZZ'" in messages[1]
    assert "unknown demographic 'elderly'" in messages[2]
    assert "unknown event type 'detention'" in messages[3]
    assert messages[4] == "a negative count (-3)"
    assert messages[5] == "not a whole number: '2.5'"
    assert messages[6] == "a month in the future (2026-07)"
    assert messages[7] == "not a month: '2026-13', expected YYYY-MM"
    assert messages[8].startswith("a duplicate of line 2")
    assert messages[9].startswith("a row of another country (US)")
    assert FlowFigure.objects.count() == 0 and FlowRevision.objects.count() == 0
    assert not [e for e in OutboxEvent.objects.all() if e.event["action"] == "flows.import"]


@pytest.mark.parametrize(("data", "problem"), [
    (b"\xff\xfe not utf-8", (0, "", "the file is not UTF-8 (byte 0)")),
    (b"", (1, "", "the file is empty; the first line must be the header")),
    (csv_file(header="month,country,count"), (1, "", None)),
    (csv_file(), (2, "", "the file has a header but no figures")),
    (csv_file("2026-01,MX,MX-GT"), (2, "", "3 fields, the header has 8")),
])
def test_a_file_that_is_not_a_table_of_figures_is_refused(db, mx_statistics, data, problem):
    (found,) = problems_of(mx_statistics, data)
    assert found[:2] == problem[:2]
    if problem[2]:
        assert found[2] == problem[2]


def test_semicolons_a_byte_order_mark_and_any_column_order_are_accepted(db, mx_statistics):
    header = "count;month;reporting_country;border_segment;location;citizenship;demographic;" \
             "event_type"
    data = "\ufeff".encode() + csv_file("7;2026-02;mx;MX-GT;Chiapas;gt;unknown;rescue",
                                        header=header.replace(";", ","), delimiter=";")
    revision = flow_import(actor=mx_statistics, data=data, today=TODAY)
    figure = FlowFigure.objects.get()
    assert (figure.month.isoformat(), figure.country_id, figure.citizenship, figure.count) == (
        "2026-02-01", "MX", "GT", 7)
    assert revision.rows == 1 and revision.months == ["2026-02"]


def row(month, count, location="Chiapas"):
    return (month, "MX", "MX-GT", location, "GT", "single_adult", "apprehension", count)


def test_a_second_revision_replaces_the_months_it_covers_and_keeps_the_first(db, mx_statistics):
    first = flow_import(actor=mx_statistics, data=csv_file(
        row("2026-01", 10), row("2026-02", 20), row("2026-02", 21, "Tabasco")), today=TODAY)
    second = flow_import(actor=mx_statistics, data=csv_file(
        row("2026-02", 5), row("2026-03", 30)), today=TODAY)
    figures = sorted((f.month.strftime("%Y-%m"), f.location, f.count, f.revision_id)
                     for f in FlowFigure.objects.all())
    assert figures == [("2026-01", "Chiapas", 10, first.pk), ("2026-02", "Chiapas", 5, second.pk),
                       ("2026-03", "Chiapas", 30, second.pk)]
    history = list(FlowRevision.objects.filter(country="MX").order_by("pk")
                   .values_list("pk", "rows", "months", "uploaded_by__username"))
    assert history == [(first.pk, 3, ["2026-01", "2026-02"], "mx.statistics"),
                       (second.pk, 2, ["2026-02", "2026-03"], "mx.statistics")]


def test_another_countrys_figures_are_left_alone(db, mx_statistics, gt_statistics):
    flow_import(actor=gt_statistics, data=csv_file(
        ("2026-02", "GT", "MX-GT", "Tecún Umán", "HN", "family_unit", "return", 4)), today=TODAY)
    flow_import(actor=mx_statistics, data=csv_file(row("2026-02", 5)), today=TODAY)
    assert sorted(FlowFigure.objects.values_list("country", "count")) == [("GT", 4), ("MX", 5)]


def test_the_audit_entry_carries_the_files_hash(db, mx_statistics):
    from audit.drain import drain_outbox

    data = csv_file(row("2026-01", 10), row("2026-02", 20))
    revision = flow_import(actor=mx_statistics, data=data, filename="mx-2026.csv", today=TODAY)
    drain_outbox()
    entry = AuditEntry.objects.get(action="flows.import")
    assert revision.sha256 == hashlib.sha256(data).hexdigest()
    assert (entry.actor, entry.actor_country, entry.target_id) == ("mx.statistics", "MX",
                                                                   str(revision.pk))
    assert entry.details == {"country": "MX", "rows": 2, "sha256": revision.sha256,
                             "months": ["2026-01", "2026-02"], "filename": "mx-2026.csv",
                             "demonstration": False}


@pytest.mark.parametrize("persona", ["mx_investigator", "mx_liaison", "mx_auditor"])
def test_only_statistics_members_import(db, request, persona):
    with pytest.raises(PermissionDenied):
        flow_import(actor=request.getfixturevalue(persona), data=csv_file(row("2026-01", 1)),
                    today=TODAY)
    assert FlowRevision.objects.count() == 0
