"""Bench-only settings: production settings plus the bench URL map (never deployed)."""

from workinggroup.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
