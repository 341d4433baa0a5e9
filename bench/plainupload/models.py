from django.db import models


class PlainUpload(models.Model):
    """A file stored as is, the way a stock Django app keeps uploads (bench only)."""

    file = models.FileField(upload_to="plain/")

    def __str__(self):
        return self.file.name
