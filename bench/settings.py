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

# The bench drives gunicorn over plain HTTP on 127.0.0.1 (no TLS proxy in front), and its
# in-process check uses Django's test client: production's HTTPS redirect (on by default
# when DEBUG is off) would answer every request with a 301. The bench only, never production.
SECURE_SSL_REDIRECT = False

# Tuning experiments (docs/PERFORMANCE.md); ATTACHMENT_UPLOAD_THREADED comes from the env.
if os.environ.get("BENCH_UPLOAD_CHUNK_SIZE"):
    ATTACHMENT_UPLOAD_CHUNK_SIZE = int(os.environ["BENCH_UPLOAD_CHUNK_SIZE"])
