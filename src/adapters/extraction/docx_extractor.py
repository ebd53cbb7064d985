"""Word (DOCX) documents through python-docx: body paragraphs and tables in document order;
paragraphs styled "Heading 1" start a chapter, "Heading 2"/"Heading 3" name the section, and
the "Title" paragraph is the document's title. DOCX has no fixed pages, so segments carry none.

The zip is checked first (``archive.check_archive``): python-docx loads every part into memory.
"""

from __future__ import annotations

import io
import re
from typing import Any, Final

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from adapters.extraction._common import Collector, Outline, clean
from adapters.extraction.archive import check_archive
from adapters.extraction.sniffing import DOCX
from application.ingestion.ports import ExtractionError, ExtractionFailure, ExtractionLimits
from domain.text.document import ExtractedDocument

_HEADING_STYLE: Final = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)


def _style_name(paragraph: Paragraph) -> str:
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        return ""
    return str(getattr(style, "name", "") or "")


def _level(paragraph: Paragraph) -> int | None:
    """Heading level of a paragraph, 0 for the document title, None for body text."""
    name = _style_name(paragraph)
    if name.lower() == "title":
        return 0
    match = _HEADING_STYLE.match(name)
    return int(match.group(1)) if match else None


def _row_texts(table: Table) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            # a merged cell is returned once per grid column it spans
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = clean(cell.text)
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _open(data: bytes) -> Any:
    try:
        return docx.Document(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as exc:  # python-docx raises KeyError, lxml or package errors on bad files
        raise ExtractionError(
            ExtractionFailure.ARCHIVE_CORRUPT,
            f"The DOCX file cannot be read ({type(exc).__name__}): save it again from your editor.",
        ) from exc


class PythonDocxExtractor:
    """Word 2007+ documents."""

    media_types = frozenset({DOCX})

    def extract(
        self, data: bytes, *, file_name: str, media_type: str, limits: ExtractionLimits
    ) -> ExtractedDocument:
        check_archive(data, limits, kind="DOCX")
        document = _open(data)
        outline = Outline()
        collector = Collector(limits)
        title: str | None = None
        try:
            for block in document.iter_inner_content():
                if isinstance(block, Table):
                    for row in _row_texts(block):
                        collector.add(outline.body(row))
                    continue
                level = _level(block)
                if level == 0:
                    title = title or clean(block.text) or None
                    collector.add(outline.heading(1, block.text))
                elif level is not None:
                    collector.add(outline.heading(level, block.text))
                else:
                    collector.add(outline.body(block.text))
        except ExtractionError:
            raise
        except MemoryError:
            raise
        except Exception as exc:
            raise ExtractionError(
                ExtractionFailure.ARCHIVE_CORRUPT,
                f"The DOCX file's content cannot be read ({type(exc).__name__}): "
                "save it again from your editor.",
            ) from exc
        if title is None:
            core_title = clean(str(getattr(document.core_properties, "title", "") or ""))
            title = core_title or None
        return ExtractedDocument(media_type=DOCX, segments=tuple(collector.segments), title=title)
