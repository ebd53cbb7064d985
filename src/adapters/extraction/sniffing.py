"""What a file is, from its bytes; and whether that agrees with what the uploader declared.

The bytes decide: a PDF starts with ``%PDF-``; an EPUB is a zip whose ``mimetype`` entry says
``application/epub+zip`` (or that has ``META-INF/container.xml``); a DOCX is a zip with
``[Content_Types].xml`` and ``word/document.xml``; text must be UTF-8 (or UTF-16 with a BOM) and
is a VTT file if it starts with ``WEBVTT``, an SRT file if it starts with a numbered cue, HTML
if it starts like an HTML document (HTML alone may use another encoding, which its ``<meta>``
names). Only Markdown versus plain text cannot be told from bytes: the declared type or the
file name's extension decides that.

A declared type contradicts the bytes when they are of different kinds (a "PDF" that is a zip,
"text" that is a PDF); within text, a more specific declaration (Markdown, HTML) refines plain
text, and evidence in the bytes (a WEBVTT header) refines a generic ``text/plain``.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from typing import Final

from application.ingestion.ports import ExtractionError, ExtractionFailure

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
_STRUCTURED_TEXT: Final = frozenset({HTML, SRT, VTT})

_GENERIC: Final = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
_ALIASES: Final = {
    "application/x-pdf": PDF,
    "application/acrobat": PDF,
    "application/x-epub+zip": EPUB,
    "text/x-markdown": MARKDOWN,
    "text/md": MARKDOWN,
    "application/xhtml+xml": HTML,
    "text/srt": SRT,
    "application/srt": SRT,
    "text/x-subrip": SRT,
    "text/webvtt": VTT,
}
_NAMES: Final = {
    PDF: "a PDF",
    EPUB: "an EPUB",
    DOCX: "a Word (DOCX) document",
    HTML: "HTML",
    MARKDOWN: "Markdown",
    PLAIN: "plain text",
    SRT: "SRT subtitles",
    VTT: "WebVTT subtitles",
}
# Formats people try to upload that Canon does not read, named so the error can say what it saw.
_FOREIGN_MAGIC: Final = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office document (.doc): save it as DOCX"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"ID3", "an MP3 audio file: upload its transcript"),
    (b"OggS", "an Ogg media file: upload its transcript"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
)
_ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")
_RTF_MAGIC: Final = b"{\\rtf"
_SRT_START: Final = re.compile(r"\A(?:\d+[ \t]*\n)?[ \t]*(?:\d+:)?\d{1,2}:\d{2}[,.]\d{1,3}[ \t]*-->")
_HTML_START: Final = re.compile(
    r"\A(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL
)
_HTML_BODY: Final = re.compile(r"<(?:head|body)[\s>]", re.IGNORECASE)
_MARKDOWN_EXTENSIONS: Final = frozenset({"md", "markdown", "mdown", "mkd", "mkdn"})
_HTML_EXTENSIONS: Final = frozenset({"html", "htm", "xhtml"})
SNIFF_CHARS: Final = 4096


def normalize(media_type: str | None) -> str:
    """``Text/Markdown; charset=UTF-8`` -> ``text/markdown``; aliases to their usual name."""
    base = (media_type or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def describe(media_type: str) -> str:
    return _NAMES.get(media_type, media_type)


def _extension(file_name: str) -> str:
    return file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                # an encrypted entry cannot be read here; the container check refuses it later
                readable = info.file_size <= 64 and not info.flag_bits & 0x1
                if readable and archive.read("mimetype").strip() == EPUB.encode():
                    return EPUB
            if "META-INF/container.xml" in names:
                return EPUB
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        raise ExtractionError(
            ExtractionFailure.ARCHIVE_CORRUPT, f"The file is a damaged zip archive ({exc}): export it again."
        ) from exc
    return None


def _head_text(data: bytes) -> str:
    """The start of a file already known to be UTF-8 or UTF-16 text."""
    head = data[: SNIFF_CHARS * 4]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="ignore")[:SNIFF_CHARS]
    return head.decode("utf-8", errors="ignore").lstrip("\ufeff")[:SNIFF_CHARS]


def _is_utf8(data: bytes) -> bool:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff(data: bytes, *, file_name: str = "") -> str | None:
    """The supported media type ``data`` is, or None if it is none of them. A text file in an
    unsupported encoding raises ``text-encoding-unsupported``; a broken zip ``archive-corrupt``."""
    if data.lstrip().startswith(b"%PDF-"):
        return PDF
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data)
    if data.startswith(_RTF_MAGIC):
        return None
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16 and b"\x00" in data[:8192]:
        return None  # NUL bytes: binary, even where they happen to be valid UTF-8
    if not _is_utf8(data):
        # readers accept a PDF header anywhere in the first KiB; in text it is only a mention
        if b"%PDF-" in data[:1024]:
            return PDF
        if _HTML_START.match(data[:1024].decode("latin-1").lstrip()):
            return HTML  # HTML names its own encoding (<meta charset>), which the parser honours
        if any(data.startswith(magic) for magic, _ in _FOREIGN_MAGIC):
            return None  # binary, not text in some other encoding
        raise ExtractionError(
            ExtractionFailure.TEXT_ENCODING,
            "The file is text in an encoding other than UTF-8: save it as UTF-8 and upload it again.",
        )
    head = _head_text(data)
    start = head.lstrip().replace("\r\n", "\n").replace("\r", "\n")
    if start.startswith("WEBVTT") and (len(start) == 6 or start[6] in " \t\n"):
        return VTT
    if _SRT_START.match(start):
        return SRT
    ext = _extension(file_name)
    if _HTML_START.match(start) or (start.startswith("<") and _HTML_BODY.search(start)):
        return HTML
    if ext in _HTML_EXTENSIONS:
        return HTML
    if ext in _MARKDOWN_EXTENSIONS:
        return MARKDOWN
    return PLAIN


def _foreign(data: bytes) -> str:
    if data.startswith(_RTF_MAGIC):
        return "an RTF document: save it as DOCX"
    for magic, name in _FOREIGN_MAGIC:
        if data.startswith(magic):
            return name
    if data.startswith(_ZIP_MAGIC):
        return "a zip archive that is neither an EPUB nor a DOCX"
    return "an unrecognised binary format"


def resolve(data: bytes, *, file_name: str, declared: str | None) -> str:
    """The media type to extract ``data`` as; raises if the declaration contradicts the bytes
    or the format is not supported."""
    wanted = normalize(declared)
    actual = sniff(data, file_name=file_name)
    if actual is None:
        seen = _foreign(data)
        if wanted in SUPPORTED:
            raise ExtractionError(
                ExtractionFailure.MISMATCH,
                f"The file was declared as {describe(wanted)} but it is {seen}.",
            )
        raise ExtractionError(
            ExtractionFailure.UNSUPPORTED,
            f"Canon cannot read {seen}. "
            "Upload a PDF, EPUB, DOCX, HTML, Markdown, plain text, SRT or VTT file.",
        )
    if wanted in _GENERIC or wanted == actual:
        return actual
    if wanted in TEXT_TYPES and actual in TEXT_TYPES:
        if wanted in (SRT, VTT):
            pass  # a subtitle declaration needs the bytes to be that subtitle format
        elif actual in _STRUCTURED_TEXT or wanted == PLAIN:
            return actual
        else:
            return wanted  # Markdown or HTML declared for what reads as plain text
    raise ExtractionError(
        ExtractionFailure.MISMATCH,
        f"The file was declared as {describe(wanted) if wanted in SUPPORTED else wanted} "
        f"but its content is {describe(actual)}: upload it with the right type.",
    )
