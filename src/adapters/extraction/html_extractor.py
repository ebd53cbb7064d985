"""HTML (and the XHTML inside EPUBs) to segments, with BeautifulSoup on lxml.

Scripts, styles and other non-prose elements are dropped; each block element (paragraph, list
item, table row, quote...) becomes one segment; ``h1`` starts a chapter and ``h2``/``h3`` name
the section (``Outline``). The page ``<title>`` is the document's title and the chapter of any
text before the first ``h1``. The tree is walked with an explicit stack, so a hostile document
nested ten thousand levels deep cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction

from adapters.extraction._common import Collector, Outline, clean
from adapters.extraction.sniffing import HTML
from application.ingestion.ports import ExtractionLimits
from domain.text.document import ExtractedDocument

_DROP: Final = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
     "head", "nav", "form", "button", "select", "input", "textarea", "audio", "video", "map"}
)  # fmt: skip
_HEADINGS: Final = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS: Final = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "pre",
     "li", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "figure",
     "figcaption", "caption", "address", "details", "summary", "hr", "body", "center", "hgroup"}
)  # fmt: skip
_CELLS: Final = frozenset({"td", "th"})
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)
_XML_ENCODING: Final = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def parse(markup: bytes) -> BeautifulSoup:
    """XHTML (EPUB chapters) starts with an XML declaration; the lenient HTML parser reads it
    better than an XML parser would read real-world books, but then the declaration's encoding
    must be applied here, and the declaration removed (bs4 warns about it otherwise)."""
    head = markup.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<?xml"):
        end = head.find(b"?>")
        if end != -1:
            declared = _XML_ENCODING.search(head[:end])
            encoding = declared.group(1).decode("ascii") if declared else "utf-8"
            try:
                return BeautifulSoup(head[end + 2 :].decode(encoding, errors="replace"), "lxml")
            except LookupError:  # an encoding Python does not know: let the parser guess
                return BeautifulSoup(head[end + 2 :], "lxml")
    return BeautifulSoup(markup, "lxml")


def title_of(soup: BeautifulSoup) -> str | None:
    tag = soup.find("title")
    text = clean(tag.get_text(" ")) if isinstance(tag, Tag) else ""
    return text or None


def blocks(root: Tag) -> Iterator[tuple[int, str]]:
    """``(level, text)`` for each block in reading order: level 1-6 for headings, 0 for body."""
    buffer: list[str] = []
    flush_marker: Final = object()
    stack: list[Iterator[object] | object] = [iter(root.contents)]

    def flush() -> Iterator[tuple[int, str]]:
        text = "".join(buffer)
        buffer.clear()
        if text.strip():
            yield 0, text

    while stack:
        top = stack[-1]
        if top is flush_marker:
            stack.pop()
            yield from flush()
            continue
        assert isinstance(top, Iterator)
        child = next(top, None)
        if child is None:
            stack.pop()
            continue
        if isinstance(child, NavigableString):
            if not isinstance(child, _SKIPPED_STRINGS):
                buffer.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = (child.name or "").lower().rsplit(":", 1)[-1]
        if name in _DROP:
            continue
        if name in _HEADINGS:
            yield from flush()
            yield _HEADINGS[name], child.get_text(" ")
        elif name in _BLOCKS:
            yield from flush()
            stack.append(flush_marker)
            stack.append(iter(child.contents))
        elif name in _CELLS:
            buffer.append(" ")
            stack.append(iter([*child.contents, NavigableString(" ")]))
        elif name == "br":
            buffer.append("\n")
        else:
            stack.append(iter(child.contents))
    yield from flush()


def collect(root: Tag, outline: Outline, collector: Collector, *, page: int | None = None) -> None:
    for level, text in blocks(root):
        collector.add(outline.heading(level, text, page=page) if level else outline.body(text, page=page))


class BeautifulSoupHtmlExtractor:
    """HTML pages and articles."""

    media_types = frozenset({HTML})

    def extract(
        self, data: bytes, *, file_name: str, media_type: str, limits: ExtractionLimits
    ) -> ExtractedDocument:
        soup = parse(data)
        title = title_of(soup)
        collector = Collector(limits)
        body = soup.body if isinstance(soup.body, Tag) else soup
        collect(body, Outline(chapter=title), collector)
        return ExtractedDocument(media_type=HTML, segments=tuple(collector.segments), title=title)
