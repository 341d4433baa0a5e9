"""The dashboard's joint-operations panels: a partner's task counts rounded, the reader's own
exact, nothing for a country in no plan, and no trace of a linked case."""

import datetime as dt

import pytest

from plans import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_plan(joined_plan, us_liaison, mx_investigator, us_investigator, make_case):
    services.plan_activate(plan=joined_plan, liaison=us_liaison)
    for n in range(7):  # seven MX tasks done: exact for MX, rounded (10) for the US
        task = services.task_assign(plan=joined_plan, actor=us_liaison, country="MX",
                                    title=f"t{n}", due_on=dt.date(2026, 12, 1))
        services.task_update(task=task, actor=mx_investigator, status="done")
    for n in range(3):  # three US tasks overdue: exact for the US, rounded (0) for MX
        services.task_assign(plan=joined_plan, actor=us_liaison, country="US", title=f"u{n}",
                             due_on=dt.date(2020, 1, 1))
    case = make_case("US", title="Unshared ring")
    services.plan_link_case(plan=joined_plan, actor=us_investigator, case_id=case.pk)
    return case


def _cells(html, slug):
    from html.parser import HTMLParser

    start = html.index(f'id="{slug}"')
    section = html[start:html.index("</section>", start)]

    class Cells(HTMLParser):
        values, row = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "span" and dict(attrs).get("data-value") is not None:
                self.values.append((self.row, dict(attrs)["data-value"],
                                    "rounded" in (dict(attrs).get("class") or "")))

        def handle_data(self, data):
            if self.lasttag == "th" and data.strip():
                self.row = data.strip()

    parser = Cells()
    parser.values = []
    parser.feed(section)
    return parser.values


def test_partner_task_counts_are_rounded_and_own_exact(web, busy_plan, us_investigator,
                                                       mx_investigator):
    us = web(us_investigator).get("/dashboard/").content.decode()
    assert _cells(us, "plans-tasks") == [("MX", "10", True), ("MX", "0", True),
                                         ("US", "0", False), ("US", "3", False)]
    mx = web(mx_investigator).get("/dashboard/").content.decode()
    assert _cells(mx, "plans-tasks") == [("MX", "7", False), ("MX", "0", False),
                                         ("US", "0", True), ("US", "0", True)]
    # One active plan on MX-GT, none on US-MX: the reader's own plans, exact.
    assert [(v, rd) for _r, v, rd in _cells(mx, "plans-segment")] == [("0", False),
                                                                       ("1", False)]
    for html in (us, mx):
        assert busy_plan.reference not in html and busy_plan.title not in html


def test_a_country_in_no_plan_sees_no_plan_panel(web, busy_plan, gt_investigator):
    html = web(gt_investigator).get("/dashboard/").content.decode()
    assert 'id="plans-segment"' not in html and 'id="plans-tasks"' not in html
    assert web(gt_investigator).get("/dashboard/csv/plans-tasks/").status_code == 404


def test_the_csv_is_exactly_what_is_shown(web, busy_plan, mx_investigator):
    body = web(mx_investigator).get("/dashboard/csv/plans-tasks/").content.decode()
    rows = [line for line in body.splitlines() if not line.startswith("#")]
    assert rows[-3:] == ["key,label,Done,Overdue", "MX,MX,7,0", "US,US,0,0"]
