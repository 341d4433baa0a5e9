"""Bench-only URL map: the production API plus the same case list without the gate.

Only bench/settings.py names this module; production URLs never include it.
"""

from django.urls import path

from bench.views import UnfilteredCaseList
from workinggroup.urls import urlpatterns as production

urlpatterns = [
    path("bench/unfiltered/cases/", UnfilteredCaseList.as_view(), name="bench-unfiltered"),
    *production,
]
