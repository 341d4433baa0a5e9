"""What an upload is, from its first bytes, and what it may be called (no database)."""

import pytest

from cases.filetypes import TypeRefused, check, sanitise_filename, sniff

OOXML = "application/vnd.openxmlformats-officedocument"
ZIP = b"PK\x03\x04\x14\x00\x06\x00"
FTYP = b"\x00\x00\x00\x18ftyp"


@pytest.mark.parametrize(
    ("name", "head", "content_type"),
    [
        ("a.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "application/pdf"),
        ("a.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        ("a.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        ("a.gif", b"GIF89a\x01\x00", "image/gif"),
        ("a.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("a.tif", b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        ("a.heic", FTYP + b"heic\x00\x00\x00\x00", "image/heic"),
        ("a.docx", ZIP, f"{OOXML}.wordprocessingml.document"),
        ("a.xlsx", ZIP, f"{OOXML}.spreadsheetml.sheet"),
        ("a.pptx", ZIP, f"{OOXML}.presentationml.presentation"),
        ("a.odt", ZIP, "application/vnd.oasis.opendocument.text"),
        ("a.zip", ZIP, "application/zip"),
        ("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/vnd.ms-excel"),
        ("a.txt", "declaración: sin novedad\n".encode(), "text/plain"),
        ("a.csv", b"\xef\xbb\xbfname,passport\nX,Y\n", "text/csv"),
        ("a.mp3", b"ID3\x04\x00\x00\x00", "audio/mpeg"),
        ("a.mp3", b"\xff\xfb\x90\x64\x00", "audio/mpeg"),
        ("a.aac", b"\xff\xf1\x50\x80", "audio/aac"),
        ("a.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
        ("a.ogg", b"OggS\x00\x02", "audio/ogg"),
        ("a.opus", b"OggS\x00\x02", "audio/ogg"),
        ("a.flac", b"fLaC\x00\x00", "audio/flac"),
        ("a.m4a", FTYP + b"M4A \x00\x00", "audio/mp4"),
        ("a.mp4", FTYP + b"isom\x00\x00", "video/mp4"),
        ("a.mov", FTYP + b"qt  \x00\x00", "video/quicktime"),
        ("a.mov", b"\x00\x00\x00\x08wide\x00\x00", "video/quicktime"),
        ("a.3gp", FTYP + b"3gp4\x00\x00", "video/3gpp"),
        ("a.webm", b"\x1aE\xdf\xa3\x9fB\x86", "video/webm"),
        ("a.avi", b"RIFF\x24\x00\x00\x00AVI LIST", "video/x-msvideo"),
    ],
)
def test_allowed_types_are_recognised_by_their_bytes(name, head, content_type):
    assert check(name, head, complete=True) == (content_type, name)


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (b"MZ\x90\x00\x03\x00", "Windows executable"),
        (b"\x7fELF\x02\x01", "ELF"),
        (b"\xcf\xfa\xed\xfe\x07\x00", "Mach-O"),
        (b"\xca\xfe\xba\xbe\x00\x00", "Mach-O universal binary or Java class"),
        (b"#!/usr/bin/env python\n", "script"),
        (b"\x00asm\x01\x00", "WebAssembly"),
        (b"L\x00\x00\x00\x01\x14\x02\x00\x00", "shortcut"),
    ],
)
def test_executables_are_refused_whatever_their_name(head, what):
    for name in ("report.pdf", "notes.txt", "report"):
        with pytest.raises(TypeRefused, match=what) as refused:
            check(name, head, complete=True)
        assert refused.value.reason == "executable"


def test_text_that_starts_with_mz_is_still_text():
    assert check("ids.csv", b"MZ-2024,Mazatlan\n", complete=True)[0] == "text/csv"


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("a.docx", b"%PDF-1.4"),  # a PDF called a Word document
        ("a.pdf", ZIP),
        ("a.jpg", b"\x89PNG\r\n\x1a\n"),
        ("a.html", b"<!doctype html><script>"),
        ("a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'>"),
        ("a.exe", b"hello"),
        ("a.pdf.exe", b"%PDF-1.4"),
        ("empty.pdf", b""),
    ],
)
def test_a_name_that_contradicts_the_bytes_is_refused(name, head):
    with pytest.raises(TypeRefused) as refused:
        check(name, head, complete=True)
    assert refused.value.reason == "name_mismatch"


@pytest.mark.parametrize(
    "head",
    [bytes(range(256)), b"\x1f\x8b\x08\x00", b"Rar!\x1a\x07\x00", "text\x00".encode("utf-16")],
)
def test_unknown_binary_is_not_allowed(head):
    with pytest.raises(TypeRefused) as refused:
        sniff(head, complete=True)
    assert refused.value.reason == "not_allowed"


def test_a_head_cut_inside_a_character_is_still_text_until_the_file_ends():
    cut = "ñ".encode()[:1]
    assert sniff(b"abc" + cut, complete=False) == "text"
    with pytest.raises(TypeRefused):
        sniff(b"abc" + cut, complete=True)


def test_a_name_without_extension_gets_its_types():
    assert check("scan", b"%PDF-1.4", complete=True) == ("application/pdf", "scan.pdf")
    assert check("", b"", complete=True) == ("text/plain", "attachment.txt")


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("C:\\Users\\x\\acta.pdf", "acta.pdf"),
        ("  ..hidden.pdf. ", "hidden.pdf"),
        ("a\u202egpj.exe", "agpj.exe"),  # right-to-left override removed
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ("new\nline.pdf", "new line.pdf"),
        ('q"u<o>t|e?s*:.pdf', "q_u_o_t_e_s__.pdf"),
        ("nb\u00a0space.pdf", "nb space.pdf"),
        ("Cafe\u0301.pdf", "Café.pdf"),  # NFC
        ("aux.txt", "_aux.txt"),
        ("/", ""),
        ("...", ""),
        (None, ""),
    ],
)
def test_sanitise_filename(raw, safe):
    assert sanitise_filename(raw) == safe


def test_long_names_keep_their_extension():
    name = sanitise_filename("é" * 500 + ".docx")
    assert len(name) == 200 and name.endswith("é.docx")
    assert len(sanitise_filename("x" * 500)) == 200
