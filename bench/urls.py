"""Bench-only URL map: the production URLs plus the references benchmarks compare against.

The same case list without the gate, and a plain unencrypted FileField upload. Only
bench/settings.py names this module; production URLs never include it.
"""

from django.urls import path

from bench.plainupload.views import plain_upload
from bench.views import UnfilteredCaseList
from workinggroup.urls import urlpatterns as production

urlpatterns = [
    path("bench/unfiltered/cases/", UnfilteredCaseList.as_view(), name="bench-unfiltered"),
    path("bench/plain/", plain_upload),
    *production,
]
