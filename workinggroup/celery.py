"""The Celery app. Tasks take ids as JSON arguments and are sent on commit."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workinggroup.settings")

app = Celery("workinggroup")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
