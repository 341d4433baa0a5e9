"""The chart geometry: tick labels a reader can trust and row labels that never overlap."""

from django.utils import translation

from dashboard.charts import CHAR_WIDTH, chart
from dashboard.disclosure import COUNT, MEDIAN, Axis, Cell, Table


def table(rows, values, measure=COUNT):
    series = [Axis("GT", "GT"), Axis("MX", "MX")]
    axes = [Axis(f"r{i}", label) for i, label in enumerate(rows)]
    cells = {(row.key, s.key): Cell(values[i][j]) for i, row in enumerate(axes)
             for j, s in enumerate(series)}
    return Table("t", "T", "", "cases", "operational", measure, axes, series, cells, {}, {},
                 None)


def test_small_counts_get_whole_number_ticks():
    drawn = chart(table(["Open"], [[3, 0]]))
    assert [t.label for t in drawn["ticks"]] == ["0", "1", "2", "3"]
    drawn = chart(table(["Open"], [[1, 0]]))
    assert [t.label for t in drawn["ticks"]] == ["0", "1"]
    with translation.override("es"):
        drawn = chart(table(["Open"], [[7, 0]]))
    assert [t.label for t in drawn["ticks"]] == ["0", "2", "4", "6", "8"]


def test_fractional_ticks_are_rounded_to_their_step():
    with translation.override("es"):
        drawn = chart(table(["Days"], [[0.6, 0.1]], measure=MEDIAN))
    assert [t.label for t in drawn["ticks"]] == ["0,0", "0,2", "0,4", "0,6"]
    drawn = chart(table(["Days"], [[6, 1]], measure=MEDIAN))
    assert [t.label for t in drawn["ticks"]] == ["0", "2", "4", "6"]


def test_long_row_labels_wrap_or_shorten_within_their_room():
    statuses = ["Pendiente", "Pendiente de una segunda aprobación", "Aprobada", "Denegada",
                "Revocada", "Caducada", "Cancelada"]
    countries = ["Guatemala", "Honduras", "Venezuela", "El Salvador", "México", "Nicaragua",
                 "Estados Unidos", "Colombia"]
    for rows in (statuses, countries):
        drawn = chart(table(rows, [[1, 2]] * len(rows)))
        assert [label.text for label in drawn["labels"]] == rows  # every row is labelled
        room = drawn["labels"][1].x - drawn["labels"][0].x
        for label in drawn["labels"]:
            assert 1 <= len(label.lines) <= 2
            assert all(len(line) * CHAR_WIDTH <= room for line in label.lines)
    drawn = chart(table(statuses, [[1, 2]] * len(statuses)))
    second = drawn["labels"][1]
    assert second.shortened and second.lines[0] == "Pendiente" and second.lines[1].endswith("…")
    assert not drawn["labels"][0].shortened and drawn["labels"][0].lines == ("Pendiente",)
    drawn = chart(table(countries, [[1, 2]] * len(countries)))
    assert drawn["labels"][3].lines == ("El", "Salvador") and not drawn["labels"][3].shortened
    assert drawn["labels"][6].lines == ("Estados", "Unidos")
