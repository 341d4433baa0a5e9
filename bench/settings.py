"""Bench-only settings: the project's, plus the bench URL map and the plain FileField app.

Never deployed: only benchmarks set DJANGO_SETTINGS_MODULE=bench.settings.
"""

import os

from workinggroup.settings import *  # noqa: F403
from workinggroup.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.plainupload"]
ROOT_URLCONF = "bench.urls"
# The plain endpoint gets Django's stock handlers (memory, then a temporary file); the
# attachment endpoint installs its own encrypting handler whatever this says.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Tuning experiments (docs/PERFORMANCE.md); ATTACHMENT_UPLOAD_THREADED comes from the env.
if os.environ.get("BENCH_UPLOAD_CHUNK_SIZE"):
    ATTACHMENT_UPLOAD_CHUNK_SIZE = int(os.environ["BENCH_UPLOAD_CHUNK_SIZE"])
