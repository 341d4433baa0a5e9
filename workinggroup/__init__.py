"""Working Group Exchange: the project package and the working group itself."""

from .celery import app as celery_app

__all__ = ("celery_app",)
