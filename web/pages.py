"""What several pages share: the countries, in the member's language order."""

from __future__ import annotations

from cases.models import Case
from workinggroup.models import Country


def countries():
    return list(Country.objects.order_by("code"))


def partner_countries(case: Case):
    """The countries a case can be offered to: every one but its owner."""
    return [c for c in countries() if c.code != case.owner_country_id]
