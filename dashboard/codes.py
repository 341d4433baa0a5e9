"""The closed lists of a flow figure: border segments, demographics, event types, citizenships.

Citizenships are ISO 3166-1 alpha-2 codes from pycountry (with its Spanish names), plus
`other` for what a country reports without a nationality.
"""

import gettext
from functools import lru_cache

import pycountry
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BorderSegment(models.TextChoices):
    """Which border the events happened on, as the three countries report them."""

    US_MX = "US-MX", _("US-Mexico border")
    MX_GT = "MX-GT", _("Mexico-Guatemala border")
    OTHER = "other", _("Other or interior")


class Demographic(models.TextChoices):
    """Who the events concerned, in the categories CBP and Mexico's bulletin share."""

    SINGLE_ADULT = "single_adult", _("Single adult")
    FAMILY_UNIT = "family_unit", _("Family unit")
    ACCOMPANIED_MINOR = "accompanied_minor", _("Accompanied minor")
    UNACCOMPANIED_MINOR = "unaccompanied_minor", _("Unaccompanied minor")
    UNKNOWN = "unknown", _("Unknown")


class EventType(models.TextChoices):
    """What happened; each figure counts events, not people."""

    ENCOUNTER = "encounter", _("Encounter")
    APPREHENSION = "apprehension", _("Apprehension")
    RETURN = "return", _("Return or repatriation")
    RESCUE = "rescue", _("Rescue of a migrant in danger")


OTHER_CITIZENSHIP = "other"
CITIZENSHIPS = frozenset(c.alpha_2 for c in pycountry.countries) | {OTHER_CITIZENSHIP}


@lru_cache(maxsize=4)
def _pycountry_catalogue(language: str):
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language],
                               fallback=True)


def citizenship_name(code: str) -> str:
    """The citizenship's country name in the active language (the code when unknown)."""
    if code == OTHER_CITIZENSHIP:
        return str(_("Other or unknown"))
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    language = (get_language() or "en").split("-")[0]
    if language == "en":
        return getattr(country, "common_name", None) or country.name
    return _pycountry_catalogue(language).gettext(country.name)
