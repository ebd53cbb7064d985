"""PDF text with page numbers, through pypdf.

Each page's text layer becomes paragraphs tagged with the page (1-based, as the page sits in the
file); line-end hyphenation is undone. Chapters and sections come from the PDF outline
(bookmarks): a top-level bookmark starts a chapter on its page, a second-level one a section. A
PDF needing a password is refused (``pdf-encrypted``); one encrypted with only an owner password
(print or copy restrictions, which every viewer opens without asking) is read. A PDF whose pages
carry no text layer (a scan) has no extractable text: Canon does no OCR.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import Any, Final

from pypdf import PdfReader
from pypdf.errors import DependencyError
from pypdf.generic import Destination

from adapters.extraction._common import Collector, clean, heading_name
from adapters.extraction.sniffing import PDF
from application.ingestion.ports import ExtractionError, ExtractionFailure, ExtractionLimits
from domain.text.document import ExtractedDocument, Segment

_HYPHENATED: Final = re.compile(r"(\w)-\n(?=[a-z])")
_PARAGRAPH_BREAK: Final = re.compile(r"\n[ \t]*\n")
_MAX_OUTLINE_ITEMS = 10_000


def _corrupt(detail: str) -> ExtractionError:
    return ExtractionError(ExtractionFailure.PDF_CORRUPT, f"The PDF is damaged ({detail}): export it again.")


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError(
                ExtractionFailure.PDF_ENCRYPTED,
                "The PDF is protected by a password: upload a copy without one.",
            )
    except ExtractionError:
        raise
    except DependencyError as exc:
        raise ExtractionError(
            ExtractionFailure.PDF_ENCRYPTED,
            "The PDF uses an encryption Canon cannot open: upload an unprotected copy.",
        ) from exc
    except MemoryError:
        raise
    except Exception as exc:  # pypdf parses hostile input; whatever it raises means "damaged"
        raise _corrupt(type(exc).__name__) from exc
    return reader


def _outline(reader: PdfReader) -> list[tuple[int, int, str]]:
    """``(page index, level, title)`` of the first two levels of bookmarks, by page."""
    entries: list[tuple[int, int, str]] = []

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if len(entries) >= _MAX_OUTLINE_ITEMS:
                return
            if isinstance(item, list):
                if level < 1:
                    walk(item, level + 1)
            elif isinstance(item, Destination):
                page = reader.get_destination_page_number(item)
                title = heading_name(str(item.title or ""))
                if page is not None and page >= 0 and title:
                    entries.append((page, level, title))

    try:
        walk(list(reader.outline), 0)
    except MemoryError:
        raise
    except Exception:  # a broken outline costs us chapter names, not the text
        logging.getLogger(__name__).info("ignoring an unreadable PDF outline", exc_info=True)
        return []
    return sorted(entries, key=lambda entry: entry[0])


def _places(outline: list[tuple[int, int, str]], page_count: int) -> Iterator[tuple[str | None, str | None]]:
    chapter: str | None = None
    section: str | None = None
    position = 0
    for page in range(page_count):
        while position < len(outline) and outline[position][0] <= page:
            _, level, title = outline[position]
            if level == 0:
                chapter, section = title, None
            else:
                section = title
            position += 1
        yield chapter, section


def _paragraphs(text: str) -> list[str]:
    text = _HYPHENATED.sub(r"\1", text.replace("\r\n", "\n").replace("\r", "\n"))
    return [p for p in (clean(block) for block in _PARAGRAPH_BREAK.split(text)) if p]


def _title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        title = clean(str(metadata.title)) if metadata is not None and metadata.title else ""
    except MemoryError:
        raise
    except Exception:
        return None
    return title or None


class PypdfExtractor:
    """PDF files."""

    media_types = frozenset({PDF})

    def extract(
        self, data: bytes, *, file_name: str, media_type: str, limits: ExtractionLimits
    ) -> ExtractedDocument:
        reader = _open(data)
        try:
            page_count = len(reader.pages)
        except MemoryError:
            raise
        except Exception as exc:
            raise _corrupt("its page tree cannot be read") from exc
        if page_count > limits.max_pages:
            raise ExtractionError(
                ExtractionFailure.TOO_LONG,
                f"The PDF has {page_count:,} pages, more than the {limits.max_pages:,} allowed: split it.",
            )
        collector = Collector(limits)
        blank: list[int] = []
        for index, (chapter, section) in enumerate(_places(_outline(reader), page_count)):
            try:
                text = reader.pages[index].extract_text() or ""
            except MemoryError:
                raise
            except Exception as exc:
                raise _corrupt(f"page {index + 1} cannot be read") from exc
            paragraphs = _paragraphs(text)
            if not paragraphs:
                blank.append(index + 1)
            for paragraph in paragraphs:
                collector.add(Segment(text=paragraph, page=index + 1, chapter=chapter, section=section))
        if not collector.segments:
            raise ExtractionError(
                ExtractionFailure.NO_TEXT,
                f"The PDF's {page_count} page(s) have no text layer (a scan or images only?): "
                "Canon cannot read text from images, upload a PDF with selectable text.",
            )
        warnings = (f"{len(blank)} page(s) without text: {_ranges(blank)}",) if blank else ()
        return ExtractedDocument(
            media_type=PDF,
            segments=tuple(collector.segments),
            title=_title(reader),
            page_count=page_count,
            warnings=warnings,
        )


def _ranges(pages: list[int]) -> str:
    spans: list[str] = []
    start = previous = pages[0]
    for page in [*pages[1:], None]:
        if page is not None and page == previous + 1:
            previous = page
            continue
        spans.append(str(start) if start == previous else f"{start}-{previous}")
        if page is not None:
            start = previous = page
    return ", ".join(spans)
