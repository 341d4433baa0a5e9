"""Receiving a flow-figures CSV: kept in memory (never on disk), at most MAX_FILE_BYTES.

The project's default upload handler discards every file part (cases.upload); the import
page and API arm this one before anything reads the body.
"""

import io

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

MAX_FILE_BYTES = 64 * 1024 * 1024  # ~1.5 million rows: more than a country's decade of months


class CsvUploadHandler(FileUploadHandler):
    """One file part into memory; a bigger body stops the upload (the form then has no file)."""

    def __init__(self, request=None):
        super().__init__(request)
        self.too_large = False
        self._buffer = None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > MAX_FILE_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        self._buffer.write(raw_data)
        return None

    def file_complete(self, file_size):
        self._buffer.seek(0)
        return InMemoryUploadedFile(self._buffer, self.field_name, self.file_name,
                                    self.content_type, file_size, self.charset,
                                    self.content_type_extra)
