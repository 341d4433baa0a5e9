"""Upload handlers: evidence is encrypted as it arrives, and no plaintext touches a disk.

`EncryptingUploadHandler` is the only handler of the attachment upload view. Django's
multipart parser hands it the `file` part chunk by chunk; each chunk is hashed, checked and
encrypted (cases.crypto) and only the ciphertext is written, straight into the attachment
storage. `DiscardFileUploadHandler` is the project-wide default (FILE_UPLOAD_HANDLERS): every
other endpoint drops file parts, so Django's temporary-file handler never spools plaintext.
"""

from __future__ import annotations

import codecs
import dataclasses
import queue
import threading
import uuid

from django.conf import settings
from django.core.files.storage import Storage
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.utils.translation import gettext_lazy as _

from cases import filetypes
from cases.attachment_storage import (
    delete_quietly,
    open_for_writing,
    storage_errors,
    storage_failure,
)
from cases.crypto import StreamEncryptor
from core.errors import DomainError

FIELD_NAME = "file"


class UploadRefused(DomainError):
    """An upload that is not kept: HTTP status, a reason code for the audit, a message."""

    def __init__(self, status: int, reason: str, message):
        super().__init__(message)
        self.status = status
        self.reason = reason


def too_large(limit: int) -> UploadRefused:
    """The one answer to a file over ATTACHMENT_MAX_BYTES, whether announced or streamed."""
    return UploadRefused(
        413, "too_large",
        _("the file is larger than the limit of %(limit)d bytes") % {"limit": limit},
    )


@dataclasses.dataclass(frozen=True)
class UploadTarget:
    """Where and how to encrypt the upload; decided by the view after the access checks."""

    attachment_id: uuid.UUID
    key_id: str
    kek: bytes = dataclasses.field(repr=False)
    storage: Storage
    storage_name: str
    max_bytes: int


@dataclasses.dataclass
class EncryptedUpload:
    """What the handler stored for the `file` part (goes into request.FILES)."""

    attachment_id: uuid.UUID
    storage_name: str
    key_id: str
    wrapped_key: bytes
    filename: str
    content_type: str
    size: int
    sha256: str

    def close(self) -> None:
        """Django closes request.FILES at the end of the request; nothing is open here."""


class _EncryptingSink:
    """Encrypts chunks and writes the ciphertext; threaded, on a helper thread.

    Threaded (settings.ATTACHMENT_UPLOAD_THREADED, off by default): SHA-256 and AES-GCM
    release the GIL, so on the helper thread they run while the request thread reads and
    parses the next chunk; double buffering, one chunk queued at most (deeper queues
    measured no faster and cost a MiB of memory per chunk).
    """

    QUEUE_DEPTH = 1

    def __init__(self, encryptor: StreamEncryptor, out, *, threaded: bool):
        self.encryptor, self._out = encryptor, out
        self._error: BaseException | None = None
        self._queue = self._thread = None
        out.write(encryptor.header_bytes)
        if threaded:
            self._queue = queue.Queue(maxsize=self.QUEUE_DEPTH)
            self._thread = threading.Thread(target=self._work, name="wgxa-encrypt",
                                            daemon=True)
            self._thread.start()

    def _encrypt(self, chunk) -> None:
        ciphertext = self.encryptor.update(chunk)
        if ciphertext:
            self._out.write(ciphertext)

    def _work(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:  # after a failure, keep draining so feed() never blocks
                try:
                    self._encrypt(chunk)
                except BaseException as exc:
                    self._error = exc

    def feed(self, chunk) -> None:
        if self._queue is None:
            return self._encrypt(chunk)
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def _stop_helper(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error

    def finish(self) -> None:
        """Wait for the helper, write the final segment and close the object."""
        self._stop_helper()
        self._out.write(self.encryptor.finish())
        self._out.close()

    def abort(self) -> None:
        """Stop without finishing (the caller deletes the object)."""
        try:
            self._stop_helper()
        except BaseException:
            pass
        finally:
            try:
                self._out.close()
            except storage_errors():  # a full disk fails the flush too; the object goes
                pass


class DiscardFileUploadHandler(FileUploadHandler):
    """The default handler everywhere: file parts are skipped, never stored in any form."""

    def new_file(self, *args, **kwargs):
        raise SkipFile()

    def receive_data_chunk(self, raw_data, start):
        return None

    def file_complete(self, file_size):
        return None


class EncryptingUploadHandler(FileUploadHandler):
    """Encrypts the one `file` part into storage while it streams in; fails closed.

    Until the view arms it (after the access checks) it keeps nothing: a body parsed early
    loses its file parts. Any refusal (size, type, a second file, a truncated body) removes
    the partial ciphertext; the view reads `result`, `refusal` and `files_seen` afterwards.
    """

    def __init__(self, request=None):
        super().__init__(request)
        # Django's parser hands the file over in chunks of this size (its default: 64 KiB).
        self.chunk_size = settings.ATTACHMENT_UPLOAD_CHUNK_SIZE
        self.target: UploadTarget | None = None
        self.result: EncryptedUpload | None = None
        self.refusal: UploadRefused | None = None
        self.files_seen = 0
        self.interrupted = False
        self._sink: _EncryptingSink | None = None
        self._head = bytearray()
        self._text = None  # incremental UTF-8 decoder while the file may still be text
        self._filename = ""
        self._kept = False

    def arm(self, target: UploadTarget) -> None:
        self.target = target

    def keep(self) -> None:
        """The object now belongs to a committed Attachment row: discard() leaves it alone."""
        self._kept = True

    # --- FileUploadHandler -----------------------------------------------------------------

    def new_file(self, field_name, file_name, *args, **kwargs):
        if self.target is None or field_name != FIELD_NAME:
            raise SkipFile()
        self.files_seen += 1
        if self.files_seen > 1 or self.refusal is not None:
            self.discard()  # one file per upload: the view answers 400
            raise SkipFile()
        super().new_file(field_name, file_name, *args, **kwargs)
        self._filename = filetypes.sanitise_filename(file_name)
        self._text = codecs.getincrementaldecoder("utf-8")()
        target = self.target
        encryptor = StreamEncryptor(
            attachment_id=target.attachment_id, kek=target.kek, key_id=target.key_id
        )
        try:
            self._sink = _EncryptingSink(
                encryptor, open_for_writing(target.storage, target.storage_name),
                threaded=settings.ATTACHMENT_UPLOAD_THREADED,
            )
        except storage_errors() as exc:
            self._refuse(UploadRefused(*storage_failure(exc)))

    def receive_data_chunk(self, raw_data, start):
        if self._sink is None:
            return None
        if start + len(raw_data) > self.target.max_bytes:
            self._refuse(too_large(self.target.max_bytes))
        if len(self._head) < filetypes.HEAD_SIZE:
            self._head += raw_data[: filetypes.HEAD_SIZE - len(self._head)]
            if len(self._head) == filetypes.HEAD_SIZE:
                self._check_type(complete=False)  # refuse early, not after 100 MiB
        self._feed_text(raw_data)
        try:
            self._sink.feed(raw_data)
        except storage_errors() as exc:
            self._refuse(UploadRefused(*storage_failure(exc)))
        return None

    def file_complete(self, file_size):
        if self._sink is None:
            return None
        self._feed_text(b"", final=True)
        if file_size == 0:  # said as such, not as a type that a 0-byte body cannot have
            try:
                self._refuse(UploadRefused(
                    400, "empty", _("file: the file is empty (0 bytes); nothing to keep")),
                    stop=False)
            except UploadRefused:
                return None
        try:
            content_type, filename = self._check_type(complete=True, stop=False)
        except UploadRefused:
            return None
        sink, self._sink = self._sink, None
        try:
            sink.finish()
        except storage_errors() as exc:
            self._sink = sink
            self._refuse(UploadRefused(*storage_failure(exc)))
        except BaseException:
            self._sink = sink
            self.discard()
            raise
        enc = sink.encryptor
        self.result = EncryptedUpload(
            attachment_id=self.target.attachment_id,
            storage_name=self.target.storage_name,
            key_id=enc.header.key_id,
            wrapped_key=enc.header.wrapped_key,
            filename=filename,
            content_type=content_type,
            size=enc.plaintext_size,
            sha256=enc.plaintext_sha256,
        )
        return self.result

    def upload_interrupted(self):
        """The body ended inside a file part (Django also calls this after a skipped part)."""
        if self._sink is not None:  # ours was still streaming in: a truncated upload
            self.interrupted = True
            self.discard()

    # --- helpers -----------------------------------------------------------------------------

    def discard(self) -> None:
        """Close and delete whatever ciphertext this handler wrote; safe to call twice."""
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.abort()
        if self.target is not None and self.files_seen and not self._kept:
            delete_quietly(self.target.storage, self.target.storage_name)
        self.result = None

    def _feed_text(self, data: bytes, *, final: bool = False) -> None:
        if self._text is None:
            return
        try:
            if b"\x00" in data:
                raise ValueError("NUL")
            self._text.decode(data, final=final)
        except ValueError:  # UnicodeDecodeError is a ValueError
            self._text = None  # binary from here on: only a magic number can admit it

    def _check_type(self, *, complete: bool, stop: bool = True) -> tuple[str, str]:
        try:
            content_type, filename = filetypes.check(
                self._filename, bytes(self._head), complete=complete
            )
            if content_type.startswith("text/") and self._text is None:
                raise filetypes.TypeRefused(
                    "not_allowed", "the file starts as text but is not UTF-8 text throughout"
                )
        except filetypes.TypeRefused as exc:
            self._refuse(UploadRefused(415, exc.reason, str(exc)), stop=stop)
        return content_type, filename

    def _refuse(self, refusal: UploadRefused, *, stop: bool = True):
        self.refusal = refusal
        self.discard()
        if stop:
            # Read (and drop) the rest of the body so the client gets a clean answer.
            raise StopUpload(connection_reset=False)
        raise self.refusal
