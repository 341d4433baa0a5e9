"""The disclosure rule: rounding as OHSS publishes, own exact, medians on 10 decisions."""

import pytest

from dashboard.disclosure import (
    FLOWS,
    MEDIAN,
    MEDIAN_NOTE,
    OPERATIONAL,
    PUBLICATION_NOTE,
    ROUNDING_NOTE,
    Axis,
    RawTable,
    disclose,
    round_count,
)


@pytest.mark.parametrize(("count", "shown"), [
    (0, 0), (1, 0), (4, 0), (5, 10), (9, 10), (14, 10), (15, 20), (24, 20), (25, 30),
    (104, 100), (105, 110), (1234, 1230),
])
def test_counts_round_to_the_nearest_ten(count, shown):
    assert round_count(count) == shown


def test_a_negative_count_is_a_bug():
    with pytest.raises(ValueError):
        round_count(-1)


def by_country(kind=OPERATIONAL, values=None, **extra):
    countries = [Axis(c, c, frozenset({c})) for c in ("GT", "MX", "US")]
    return RawTable("t", "T", "d", "cases", kind, [Axis("r1", "R1"), Axis("r2", "R2")],
                    countries, values or {}, **extra)


def values(table):
    return {key: cell.value for key, cell in table.cells.items()}


def test_own_country_is_exact_and_partners_are_rounded():
    raw = by_country(values={("r1", "US"): 7, ("r1", "MX"): 7, ("r2", "GT"): 3, ("r2", "US"): 3})
    table = disclose(raw, viewer_country="US")
    assert values(table) == {("r1", "GT"): 0, ("r1", "MX"): 10, ("r1", "US"): 7,
                             ("r2", "GT"): 0, ("r2", "MX"): 0, ("r2", "US"): 3}
    assert [c for c in table.cells.values() if c.rounded] == [
        table.cell(r, c) for r in ("r1", "r2") for c in ("GT", "MX")]
    assert table.notes == [ROUNDING_NOTE]


def test_totals_are_computed_before_rounding_and_never_exact_with_a_partner_in_them():
    raw = by_country(values={("r1", "US"): 7, ("r1", "MX"): 4, ("r2", "MX"): 4, ("r2", "US"): 1})
    table = disclose(raw, viewer_country="US")
    # MX 4 + 4 = 8 -> 10, though each rounded part shows 0
    assert table.series_totals["MX"].value == 10
    assert table.series_totals["US"].value == 8 and not table.series_totals["US"].rounded
    # a row mixing US and MX is about a partner: rounded, so 11 - 7 cannot reveal MX's 4
    assert table.row_totals["r1"].value == 10 and table.row_totals["r1"].rounded
    assert table.total.value == 20 and table.total.rounded  # 16 -> 20


def test_a_member_without_a_country_sees_every_count_rounded():
    table = disclose(by_country(values={("r1", "US"): 7}), viewer_country=None)
    assert table.cell("r1", "US").value == 10


def test_flow_figures_are_shown_as_submitted():
    table = disclose(by_country(FLOWS, {("r1", "MX"): 7, ("r2", "GT"): 3}), viewer_country="US")
    assert table.cell("r1", "MX").value == 7 and table.total.value == 10
    assert not any(c.rounded for c in table.cells.values()) and table.notes == []


def test_an_export_marked_for_publication_rounds_everything_own_and_flows_too():
    raw = by_country(FLOWS, {("r1", "US"): 7, ("r2", "US"): 3})
    table = disclose(raw, viewer_country="US", publication=True)
    assert values(table)[("r1", "US")] == 10 and values(table)[("r2", "US")] == 0
    assert table.total.value == 10 and table.notes == [PUBLICATION_NOTE]


def medians(basis, viewer, publication=False):
    raw = RawTable("m", "M", "d", "days", OPERATIONAL, [Axis("median", "Median")],
                   [Axis(c, c, frozenset({c})) for c in ("MX", "US")],
                   {("median", "MX"): 2.345, ("median", "US"): 4.0}, measure=MEDIAN,
                   basis={("median", "MX"): basis, ("median", "US"): 3}, totals=False)
    return disclose(raw, viewer_country=viewer, publication=publication)


def test_a_partner_median_needs_ten_decisions():
    assert medians(9, "US").cell("median", "MX").withheld
    assert medians(9, "US").notes == [MEDIAN_NOTE]
    assert medians(10, "US").cell("median", "MX").value == 2.3
    # the own country's median is shown on any number of decisions, but not for publication
    assert medians(9, "US").cell("median", "US").value == 4.0
    assert medians(9, "US", publication=True).cell("median", "US").withheld
    assert medians(9, "MX").cell("median", "MX").value == 2.3
