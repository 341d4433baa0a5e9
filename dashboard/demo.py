"""Synthetic flow figures for the demo working group: 24 months, three countries, plausible
shapes (seasonality, a trend, each country's own borders), labelled as demonstration data.

They go in through the import service as each country's demo statistics member, so the demo
exercises the same path, audit entry and revision history as a real file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random

from dashboard.models import FlowRevision
from dashboard.services import flow_import
from workinggroup.models import Role, User

# Per country: (segment, locations), the citizenships it meets, the events it reports.
PROFILES = {
    "US": ([("US-MX", ["San Diego", "Tucson", "El Paso", "Rio Grande Valley"]),
            ("other", ["Interior"])],
           ["MX", "GT", "HN", "SV", "VE", "CU", "other"], ["encounter", "apprehension"], 900),
    "MX": ([("MX-GT", ["Chiapas", "Tabasco"]), ("US-MX", ["Chihuahua", "Baja California"]),
            ("other", ["Ciudad de México"])],
           ["GT", "HN", "SV", "VE", "CU", "HT", "other"], ["apprehension", "return", "rescue"],
           600),
    "GT": ([("MX-GT", ["Tecún Umán", "El Carmen", "La Mesilla"]),
            ("other", ["Ciudad de Guatemala"])],
           ["GT", "HN", "SV", "VE", "other"], ["encounter", "return"], 250),
}
DEMOGRAPHIC_SHARE = {"single_adult": 0.58, "family_unit": 0.24, "accompanied_minor": 0.08,
                     "unaccompanied_minor": 0.07, "unknown": 0.03}
CITIZENSHIP_WEIGHT = {"MX": 1.4, "GT": 1.2, "HN": 1.0, "SV": 0.6, "VE": 0.8, "CU": 0.4,
                      "HT": 0.4, "other": 0.3}


def months_back(today: dt.date, count: int = 24) -> list[dt.date]:
    """The `count` months before the current one, oldest first."""
    first = today.replace(day=1)
    out = []
    for back in range(count, 0, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        out.append(dt.date(year, month + 1, 1))
    return out


def demo_csv(country: str, today: dt.date, seed: int = 2026) -> bytes:
    """A country's synthetic file, in the documented format."""
    # Synthetic figures, not secrets: a seeded, reproducible generator is what is wanted.
    rng = random.Random(f"{seed}-{country}")  # nosec B311
    segments, citizenships, events, scale = PROFILES[country]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "reporting_country", "border_segment", "location", "citizenship",
                     "demographic", "event_type", "count"])
    for i, month in enumerate(months_back(today)):
        season = 1 + 0.25 * math.sin((month.month - 3) / 12 * 2 * math.pi)
        trend = 1 + 0.015 * i
        for segment, locations in segments:
            for location in locations:
                for citizenship in citizenships:
                    for demographic, share in DEMOGRAPHIC_SHARE.items():
                        for e, event in enumerate(events):
                            mean = (scale * season * trend * share
                                    * CITIZENSHIP_WEIGHT[citizenship] / len(locations) / (1 + e))
                            count = max(0, int(rng.gauss(mean, mean * 0.15)))
                            writer.writerow([f"{month:%Y-%m}", country, segment, location,
                                             citizenship, demographic, event, count])
    return out.getvalue().encode()


def seed_flows(*, today: dt.date | None = None) -> int:
    """Load each country's demo file once, as its first statistics member (a country with any
    revision, or without such a member, is left alone). Returns how many were loaded."""
    today = today or dt.date.today()
    loaded = 0
    for country in sorted(PROFILES):
        member = (User.objects.filter(country_id=country, is_active=True,
                                      groups__name=Role.STATISTICS.group_name)
                  .order_by("pk").first())
        if member is None or FlowRevision.objects.filter(country_id=country).exists():
            continue
        flow_import(actor=member, data=demo_csv(country, today), filename="demo.csv",
                    demonstration=True, today=today)
        loaded += 1
    return loaded
