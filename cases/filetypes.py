"""What an uploaded file is, decided from its first bytes, and a safe name for it.

The type comes from magic numbers, never from the client's Content-Type, and must be on the
allow-list (documents, images, audio, video, zip, plain text). Executables and scripts are
refused whatever they are called, and so is a file whose name claims another type than its
bytes show (an executable called `report.pdf`, a PDF called `notes.docx`).
"""

from __future__ import annotations

import codecs
import dataclasses
import unicodedata

# Enough for every signature below and a fair look at whether a file is text.
HEAD_SIZE = 4096
MAX_FILENAME_LENGTH = 200
FALLBACK_STEM = "attachment"


class TypeRefused(Exception):
    """The bytes are not an allowed type, are executable, or contradict the file name."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # "executable", "not_allowed" or "name_mismatch"


@dataclasses.dataclass(frozen=True)
class Kind:
    """A family of formats with one magic number: the extensions it may carry, and types."""

    label: str
    default_type: str
    types: dict[str, str]  # extension -> content type

    def content_type(self, ext: str) -> str:
        return self.types.get(ext, self.default_type)

    @property
    def default_extension(self) -> str:
        return next(iter(self.types))


def _kind(label, default_type, *exts, **typed):
    types = dict.fromkeys(exts, default_type) | {k.lstrip("_"): v for k, v in typed.items()}
    return Kind(label, default_type, types)


OOXML = "application/vnd.openxmlformats-officedocument"
ODF = "application/vnd.oasis.opendocument"
KINDS = {
    "pdf": _kind("PDF", "application/pdf", "pdf"),
    "png": _kind("PNG image", "image/png", "png"),
    "jpeg": _kind("JPEG image", "image/jpeg", "jpg", "jpeg", "jpe"),
    "gif": _kind("GIF image", "image/gif", "gif"),
    "webp": _kind("WebP image", "image/webp", "webp"),
    "tiff": _kind("TIFF image", "image/tiff", "tif", "tiff"),
    "heic": _kind("HEIC image", "image/heic", "heic", "heif"),
    # Office Open XML and OpenDocument files are zip archives: the name says which.
    "zip": _kind(
        "zip archive", "application/zip", "zip",
        docx=f"{OOXML}.wordprocessingml.document",
        xlsx=f"{OOXML}.spreadsheetml.sheet",
        pptx=f"{OOXML}.presentationml.presentation",
        odt=f"{ODF}.text", ods=f"{ODF}.spreadsheet", odp=f"{ODF}.presentation",
    ),
    "ole": _kind(
        "legacy Office document", "application/x-ole-storage",
        doc="application/msword", xls="application/vnd.ms-excel",
        ppt="application/vnd.ms-powerpoint", msg="application/vnd.ms-outlook",
    ),
    "mp3": _kind("MP3 audio", "audio/mpeg", "mp3"),
    "aac": _kind("AAC audio", "audio/aac", "aac"),
    "wav": _kind("WAV audio", "audio/wav", "wav"),
    "ogg": _kind("Ogg media", "audio/ogg", "ogg", "oga", "opus", ogv="video/ogg"),
    "flac": _kind("FLAC audio", "audio/flac", "flac"),
    "avi": _kind("AVI video", "video/x-msvideo", "avi"),
    # ISO base media (MP4, QuickTime, 3GP, M4A) share the `ftyp` box; the name says which.
    "isobmff": _kind(
        "MP4/QuickTime media", "video/mp4", "mp4", "m4v",
        mov="video/quicktime", m4a="audio/mp4", m4b="audio/mp4",
        _3gp="video/3gpp", _3g2="video/3gpp2",
    ),
    "quicktime": _kind("QuickTime video", "video/quicktime", "mov"),
    "matroska": _kind(
        "WebM/Matroska media", "video/webm", "webm", mkv="video/x-matroska",
        mka="audio/x-matroska",
    ),
    "text": _kind("plain text", "text/plain", "txt", "log", "md", csv="text/csv",
                  tsv="text/tab-separated-values"),
}

# Every content type a stored file can be served with (the download's answer types).
CONTENT_TYPES = sorted({t for kind in KINDS.values() for t in (kind.default_type,
                                                              *kind.types.values())})

_EXECUTABLE_MAGIC = (
    (b"\x7fELF", "an ELF executable"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O universal binary or Java class"),
    (b"\x00asm", "a WebAssembly module"),
    (b"dex\n", "an Android executable"),
    (b"#!", "a script"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "a Windows shortcut"),
)
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _is_text(head: bytes, *, complete: bool) -> bool:
    """UTF-8 without NUL (a multi-byte character may be cut at the end of a partial head)."""
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def sniff(head: bytes, *, complete: bool) -> str:
    """The KINDS key for these first bytes; `complete` when head is the whole file.

    Raises TypeRefused for executables and for anything not on the allow-list.
    """
    if head.startswith(b"MZ") and not _is_text(head, complete=complete):
        raise TypeRefused("executable", "the file is a Windows executable")
    for magic, what in _EXECUTABLE_MAGIC:
        if head.startswith(magic):
            raise TypeRefused("executable", f"the file is {what}")
    box = head[4:8]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}[head[8:12]]
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 3 and head[0] == 0xFF:
        b1, b2 = head[1], head[2]
        if b1 & 0xF6 == 0xF0:  # ADTS: 12-bit sync, layer 00
            return "aac"
        # MPEG Layer III frame: 11-bit sync, a real version, bitrate and sample rate
        # (stricter than the sync alone, which a UTF-16 byte order mark also matches).
        if (b1 & 0xE6 == 0xE2 and (b1 >> 3) & 3 != 1 and b2 >> 4 not in (0, 15)
                and (b2 >> 2) & 3 != 3):
            return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if box == b"ftyp":
        return "heic" if head[8:12] in _HEIC_BRANDS else "isobmff"
    if box in _QUICKTIME_ATOMS:
        return "quicktime"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "matroska"
    if _is_text(head, complete=complete):
        return "text"
    raise TypeRefused("not_allowed", "the file's type is not on the allow-list")


def extension(filename: str) -> str:
    """The lower-case last extension without the dot ('' when there is none)."""
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""


def check(filename: str, head: bytes, *, complete: bool) -> tuple[str, str]:
    """(content type, file name to keep) for an upload, or TypeRefused.

    A name without an extension gets the canonical one of its type, so the file opens on the
    recipient's machine; a name whose extension belongs to another type is refused.
    """
    kind = KINDS[sniff(head, complete=complete)]
    ext = extension(filename)
    if not ext:
        stem = filename or FALLBACK_STEM
        return kind.default_type, f"{stem}.{kind.default_extension}"
    if ext not in kind.types:
        raise TypeRefused(
            "name_mismatch",
            f"the file's content is {kind.label}, which a .{ext} file cannot be",
        )
    return kind.content_type(ext), filename


_RESERVED_ON_WINDOWS = {
    "CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def sanitise_filename(raw: str | None) -> str:
    """A name safe to show and to offer for saving: no path, no control or bidi characters.

    Keeps the last path component (either separator), drops control and format characters
    (including right-to-left overrides that disguise `exe.pdf`), replaces characters Windows
    forbids, trims dots and spaces at both ends, and caps the length keeping the extension.
    Returns '' when nothing usable is left (the caller then uses a fallback name).
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    name = "".join("_" if ch in '<>:"|?*' else ch for ch in name)
    name = " ".join(name.split()).strip(" .")
    if name.split(".", 1)[0].upper() in _RESERVED_ON_WINDOWS:
        name = f"_{name}"
    if len(name) > MAX_FILENAME_LENGTH:
        ext = extension(name)
        if ext and len(ext) <= 16:
            keep = MAX_FILENAME_LENGTH - len(ext) - 1
            name = f"{name[:keep].rstrip(' .')}.{ext}"
        else:
            name = name[:MAX_FILENAME_LENGTH].rstrip(" .")
    return name
