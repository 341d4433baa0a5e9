"""The answer that streams a decrypted evidence file: one shape for the API and the pages,
for case files and security-gap files alike."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from django.http import StreamingHttpResponse


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and, if needed, RFC 6266 `filename*`."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(ch for ch in fallback if ch.isprintable() and ch not in '"\\')
    fallback = fallback.strip(" .") or "attachment"
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def file_response(item, body: Iterable[bytes]) -> StreamingHttpResponse:
    """Stream `body` (the plaintext, checked as it goes) as a download of `item`, which has
    `filename`, `content_type` and `size`: never rendered inline, never sniffed or cached,
    sandboxed should a browser open it all the same."""
    content_type = item.content_type
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Length"] = str(item.size)
    response["Content-Disposition"] = content_disposition(item.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
