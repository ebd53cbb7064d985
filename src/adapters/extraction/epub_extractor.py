"""EPUB books through ebooklib: each spine document in reading order, its chapter named by the
table of contents (or its first heading), headings inside it naming sections.

The zip is checked first (``archive.check_archive``) because ebooklib reads every member into
memory; a DRM-encrypted book (content listed in ``META-INF/encryption.xml``) is refused, since
its text would come out as noise. Font obfuscation, which only scrambles embedded fonts, is fine.
"""

from __future__ import annotations

import io
import posixpath
import re
from typing import Any, Final

import ebooklib
from ebooklib import epub

from adapters.extraction._common import Collector, Outline, clean
from adapters.extraction.archive import check_archive, read_member
from adapters.extraction.html_extractor import blocks, collect, parse, title_of
from adapters.extraction.sniffing import EPUB
from application.ingestion.ports import ExtractionError, ExtractionFailure, ExtractionLimits
from domain.text.document import ExtractedDocument

_CIPHER_URI: Final = re.compile(rb"""URI\s*=\s*["']([^"']+)["']""")
_FONT_EXTENSIONS: Final = (".ttf", ".otf", ".woff", ".woff2", ".eot")


def _refuse_drm(data: bytes) -> None:
    manifest = read_member(data, "META-INF/encryption.xml", kind="EPUB")
    if manifest is None:
        return
    encrypted = [uri.decode("utf-8", "replace") for uri in _CIPHER_URI.findall(manifest)]
    if any(not uri.lower().endswith(_FONT_EXTENSIONS) for uri in encrypted):
        raise ExtractionError(
            ExtractionFailure.ARCHIVE_ENCRYPTED,
            "The EPUB is DRM-protected (its text is encrypted): upload a DRM-free copy.",
        )


def _path(href: str) -> str:
    return posixpath.normpath(href.split("#", 1)[0]).lstrip("/")


def _toc_titles(toc: Any) -> dict[str, str]:
    """File path -> the first table-of-contents title pointing into it (a part's own entry comes
    before its chapters', so the outermost title wins)."""
    titles: dict[str, str] = {}
    stack: list[Any] = [iter(toc if isinstance(toc, list | tuple) else [])]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if isinstance(entry, tuple) and len(entry) == 2:
            stack.append(iter([entry[0], *entry[1]]))
            continue
        if isinstance(entry, list):
            stack.append(iter(entry))
            continue
        href = getattr(entry, "href", None)
        title = clean(str(getattr(entry, "title", "") or ""))
        if href and title:
            titles.setdefault(_path(str(href)), title)
    return titles


def _book_title(book: Any) -> str | None:
    for value, _attributes in book.get_metadata("DC", "title") or []:
        title = clean(str(value or ""))
        if title:
            return title
    return None


def _read(data: bytes) -> Any:
    try:
        return epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
    except MemoryError:
        raise
    except Exception as exc:  # ebooklib raises anything from KeyError to lxml errors on bad books
        raise ExtractionError(
            ExtractionFailure.ARCHIVE_CORRUPT,
            f"The EPUB cannot be read ({type(exc).__name__}: {str(exc)[:120]}): export it again.",
        ) from exc


class EbooklibEpubExtractor:
    """EPUB 2 and 3 books."""

    media_types = frozenset({EPUB})

    def extract(
        self, data: bytes, *, file_name: str, media_type: str, limits: ExtractionLimits
    ) -> ExtractedDocument:
        check_archive(data, limits, kind="EPUB")
        _refuse_drm(data)
        book = _read(data)
        titles = _toc_titles(book.toc)
        collector = Collector(limits)
        for idref, _linear in book.spine:
            item = book.get_item_with_id(idref)
            if not isinstance(item, epub.EpubHtml) or isinstance(item, epub.EpubNav):
                continue
            if item.get_type() != ebooklib.ITEM_DOCUMENT:
                continue
            content = item.content if isinstance(item.content, bytes) else str(item.content or "").encode()
            soup = parse(content)
            body = soup.body if soup.body is not None else soup
            chapter = titles.get(_path(item.file_name)) or _first_heading(body) or title_of(soup)
            collect(body, Outline(chapter=chapter, fixed_chapter=True), collector)
        if not collector.segments:
            raise ExtractionError(ExtractionFailure.NO_TEXT, "The EPUB has no text (images only?).")
        return ExtractedDocument(media_type=EPUB, segments=tuple(collector.segments), title=_book_title(book))


def _first_heading(body: Any) -> str | None:
    for level, text in blocks(body):
        if level and level <= 3:
            return clean(text) or None
    return None
