"""Personas and files for the dashboard tests: each country's statistics member, CSV files."""

import datetime as dt

import pytest

HEADER = "month,reporting_country,border_segment,location,citizenship,demographic,event_type,count"
TODAY = dt.date(2026, 6, 15)


def csv_file(*rows, header=HEADER, delimiter=",") -> bytes:
    """A flow-figures file: the header, then each row (a tuple or a ready line)."""
    lines = [header.replace(",", delimiter)]
    lines += [row if isinstance(row, str) else delimiter.join(str(v) for v in row)
              for row in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def us_statistics(make_member):
    return make_member("US", "statistics", username="us.statistics")


@pytest.fixture
def mx_statistics(make_member):
    return make_member("MX", "statistics", username="mx.statistics")


@pytest.fixture
def gt_statistics(make_member):
    return make_member("GT", "statistics", username="gt.statistics")
