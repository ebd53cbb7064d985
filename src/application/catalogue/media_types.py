"""What an uploaded file really is: its media type sniffed from its first bytes, checked against
the type the uploader declared. Extraction trusts the sniffed type, never the declared one, so a
renamed executable or a PDF labelled as text cannot reach the wrong parser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PDF: Final = "application/pdf"
EPUB: Final = "application/epub+zip"
DOCX: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML: Final = "text/html"
MARKDOWN: Final = "text/markdown"
PLAIN: Final = "text/plain"
SRT: Final = "application/x-subrip"
VTT: Final = "text/vtt"
SUPPORTED: Final = frozenset({PDF, EPUB, DOCX, HTML, MARKDOWN, PLAIN, SRT, VTT})
TEXT_TYPES: Final = frozenset({HTML, MARKDOWN, PLAIN, SRT, VTT})
SNIFF_BYTES: Final = 8192
"""How much of the start of a file the sniffer looks at."""

# Declared types that say nothing (browsers and curl send these for unknown files).
_GENERIC: Final = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
_ALIASES: Final = {
    "application/x-pdf": PDF,
    "text/x-markdown": MARKDOWN,
    "application/xhtml+xml": HTML,
    "text/srt": SRT,
    "application/srt": SRT,
    "text/x-subrip": SRT,
}
_SRT_START: Final = re.compile(rb"\A\s*\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->")


@dataclass(frozen=True, slots=True)
class Sniffed:
    """``media_type`` is what the bytes are (or the declared type when unsupported);
    ``problem`` is why the file cannot be ingested, for people to read (None if it can)."""

    media_type: str
    problem: str | None = None


def normalize(declared: str | None) -> str:
    base = (declared or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def _extension(file_name: str) -> str:
    return file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # the sniffed window may end in the middle of a multi-byte character
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def _sniff_bytes(head: bytes, ext: str) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        if b"mimetypeapplication/epub+zip" in head[:120]:
            return EPUB
        if b"word/" in head or ext == "docx":
            return DOCX
        return EPUB if ext == "epub" else None
    if not _is_text(head):
        return None
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    lowered = text[:64].lower()
    if text.startswith(b"WEBVTT"):
        return VTT
    if _SRT_START.match(text):
        return SRT
    if lowered.startswith((b"<!doctype html", b"<html")) or ext in ("html", "htm", "xhtml"):
        return HTML
    if ext in ("md", "markdown"):
        return MARKDOWN
    return PLAIN


def sniff(head: bytes, *, file_name: str, declared: str | None) -> Sniffed:
    """The media type of a file from its first bytes (``SNIFF_BYTES`` of them are enough)."""
    wanted = normalize(declared)
    if not head:
        return Sniffed(wanted or PLAIN, "The file is empty.")
    actual = _sniff_bytes(head[:SNIFF_BYTES], _extension(file_name))
    if actual is None:
        shown = wanted if wanted not in _GENERIC else "an unknown binary format"
        return Sniffed(
            wanted or "application/octet-stream",
            f"Unsupported file type ({shown}): upload PDF, EPUB, DOCX, HTML, Markdown, plain text, "
            "SRT or VTT.",
        )
    if wanted in _GENERIC or wanted == actual:
        return Sniffed(actual)
    if wanted in TEXT_TYPES and actual in TEXT_TYPES:
        # text labels are loose (Markdown served as text/plain); the content decides
        return Sniffed(actual)
    return Sniffed(
        wanted,
        f"The file was declared as {wanted} but its content is {actual}: upload it with the right type.",
    )
