from types import ModuleType

import pytest

from adapters.extraction.sniffing import DOCX, EPUB, HTML, MARKDOWN, PDF, PLAIN, SRT, VTT, resolve, sniff
from application.ingestion.ports import ExtractionError


def _code(data: bytes, declared: str | None, file_name: str = "upload") -> str:
    with pytest.raises(ExtractionError) as caught:
        resolve(data, file_name=file_name, declared=declared)
    assert caught.value.reason  # every refusal says why, for people
    return caught.value.code


def test_each_supported_format_is_recognised_from_its_bytes(docs: ModuleType) -> None:
    assert sniff(docs.pdf(["hello"])) == PDF
    assert sniff(docs.epub_book([("One", "<p>x</p>")])) == EPUB
    assert sniff(docs.docx_document([("p", "x")])) == DOCX
    assert sniff(docs.HTML.encode()) == HTML
    assert sniff(docs.SRT.encode()) == SRT
    assert sniff(docs.VTT.encode()) == VTT
    assert sniff(docs.PLAIN.encode()) == PLAIN


def test_names_break_ties_only_between_kinds_of_text(docs: ModuleType) -> None:
    assert sniff(docs.MARKDOWN.encode(), file_name="notes.md") == MARKDOWN
    assert sniff(docs.MARKDOWN.encode(), file_name="notes.txt") == PLAIN
    assert sniff(b"<p>fragment</p>", file_name="page.htm") == HTML
    assert sniff(docs.pdf(["hello"]), file_name="notes.md") == PDF


def test_html_without_doctype_and_text_that_mentions_pdf() -> None:
    assert sniff(b"  <head><title>t</title></head><body>x</body>") == HTML
    assert sniff(b"Files start with %PDF-1.7, which we explain here.") == PLAIN
    assert sniff(b"\xef\xbb\xbfWEBVTT\n\n00:01.000 --> 00:02.000\nhi\n") == VTT
    assert sniff(b"\n\n00:00:01,000 --> 00:00:02,000\nno index line\n") == SRT


def test_utf16_with_a_byte_order_mark_is_text() -> None:
    assert sniff("Bonjour à tous".encode("utf-16")) == PLAIN


def test_html_may_name_another_encoding() -> None:
    page = '<!DOCTYPE html><html><head><meta charset="windows-1252"></head><body>café</body></html>'
    assert sniff(page.encode("cp1252")) == HTML


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (None, SRT),
        ("application/octet-stream", SRT),
        ("text/plain", SRT),  # a generic text label gives way to what the bytes show
        ("text/plain; charset=utf-8", SRT),
        ("application/x-subrip", SRT),
        ("text/srt", SRT),  # an alias
    ],
)
def test_declarations_that_agree_with_subtitles(
    docs: ModuleType, declared: str | None, expected: str
) -> None:
    assert resolve(docs.SRT.encode(), file_name="ep.srt", declared=declared) == expected


def test_a_specific_text_declaration_refines_plain_text(docs: ModuleType) -> None:
    assert resolve(docs.MARKDOWN.encode(), file_name="notes.txt", declared="text/markdown") == MARKDOWN
    assert resolve(b"<p>only a fragment</p>", file_name="x", declared="text/html") == HTML
    assert resolve(docs.MARKDOWN.encode(), file_name="notes.md", declared="text/plain") == MARKDOWN
    assert resolve(docs.pdf(["x"]), file_name="a.pdf", declared="Application/PDF; charset=binary") == PDF


@pytest.mark.parametrize(
    ("make", "declared"),
    [
        ("pdf", "text/plain"),
        ("pdf", "application/epub+zip"),
        ("pdf", "image/png"),
        ("epub", "application/pdf"),
        ("epub", DOCX),
        ("docx", EPUB),
        ("text", "application/pdf"),
        ("srt", "text/vtt"),
        ("text", "application/x-subrip"),
    ],
)
def test_a_declaration_that_contradicts_the_bytes_is_refused(
    docs: ModuleType, make: str, declared: str
) -> None:
    data = {
        "pdf": lambda: docs.pdf(["x"]),
        "epub": lambda: docs.epub_book([("One", "<p>x</p>")]),
        "docx": lambda: docs.docx_document([("p", "x")]),
        "text": lambda: b"just some words",
        "srt": lambda: docs.SRT.encode(),
    }[make]()
    assert _code(data, declared) == "content-type-mismatch"


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "PNG"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 64, "JPEG"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, ".doc"),
        (b"{\\rtf1\\ansi hello}", "RTF"),
        (b"\x00\x01\x02\x03binary", "binary"),
    ],
)
def test_unsupported_formats_are_named(data: bytes, named: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        resolve(data, file_name="x", declared=None)
    assert caught.value.code == "unsupported-content-type"
    assert named in caught.value.reason
    # declaring a supported type for such bytes is a contradiction, not an unsupported format
    assert _code(data, "application/pdf") == "content-type-mismatch"


def test_a_zip_that_is_neither_epub_nor_docx_is_unsupported(docs: ModuleType) -> None:
    data = docs.zip_of([("xl/workbook.xml", b"<workbook/>"), ("[Content_Types].xml", b"<Types/>")])
    assert _code(data, None) == "unsupported-content-type"


def test_a_damaged_zip_is_corrupt() -> None:
    assert _code(b"PK\x03\x04" + b"\x14\x00" * 40, None) == "archive-corrupt"


def test_text_in_a_legacy_encoding_is_refused_not_guessed() -> None:
    assert _code("Café crème, s'il vous plaît".encode("cp1252"), "text/plain") == "text-encoding-unsupported"
    assert _code(b"caf\xe9", None) == "text-encoding-unsupported"
