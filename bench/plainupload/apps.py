from django.apps import AppConfig


class PlainUploadConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bench.plainupload"
