"""bench/dashboard.py in its tiny-size mode on PostgreSQL: the benchmark's seeding, queries,
bare statements and import paths run in CI, so the numbers in docs/PERFORMANCE.md stay
reproducible (the timings themselves are not asserted: speed lives in bench/)."""

from bench import dashboard as bench
from dashboard.models import FlowFigure, FlowRevision


def test_the_dashboard_benchmark_runs_at_smoke_size(db, postgres):
    result = bench.run(bench.SMOKE)
    seeded = FlowFigure.objects.filter(country="US")  # seeded as GT and MX were (MX's replaced)
    citizenships = seeded.values("citizenship").distinct().count()
    citizenship_rows = min(citizenships, 10) + (citizenships > 10)
    # 24 months x 3 countries (flows and cases), segments, citizenships, demographics,
    # types, open, 7 statuses x 3, medians, pairs, 24 months x 6 lookups: every table is built
    assert result["figures"] == (72 + 9 + citizenship_rows + 5) + (72 + 6 + 3 + 21 + 3 + 6
                                                                  + 144)
    assert FlowFigure.objects.filter(country="MX").count() == bench.SMOKE["import_rows"]
    assert FlowRevision.objects.filter(country="MX", filename="bench.csv").count() == \
        2 * bench.SMOKE["repeats"]
    assert all(result[k] > 0 for k in ("page_s", "bare_s", "import_s", "copy_s"))
