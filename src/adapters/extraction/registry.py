"""The ``DocumentExtractor`` to use: checks size, sniffs the type, reconciles it with the declared
one and hands the bytes to the extractor for that type.

Every check that needs no parsing runs first (empty, too large, wrong type), so a hostile file is
turned away before a parser sees it. The result is checked once more whatever the format: no
text at all is ``no-extractable-text``, more than ``max_chars`` is ``document-too-long``.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.extraction._common import FormatExtractor
from adapters.extraction.docx_extractor import PythonDocxExtractor
from adapters.extraction.epub_extractor import EbooklibEpubExtractor
from adapters.extraction.html_extractor import BeautifulSoupHtmlExtractor
from adapters.extraction.pdf_extractor import PypdfExtractor
from adapters.extraction.sniffing import describe, resolve
from adapters.extraction.subtitles import SubtitleExtractor
from adapters.extraction.text_extractor import MarkdownExtractor, PlainTextExtractor
from application.ingestion.ports import DEFAULT_LIMITS, ExtractionError, ExtractionFailure, ExtractionLimits
from domain.text.document import ExtractedDocument


def default_extractors() -> list[FormatExtractor]:
    return [
        PypdfExtractor(),
        EbooklibEpubExtractor(),
        PythonDocxExtractor(),
        BeautifulSoupHtmlExtractor(),
        MarkdownExtractor(),
        PlainTextExtractor(),
        SubtitleExtractor(),
    ]


class ExtractorRegistry:
    """Implements ``DocumentExtractor`` over one extractor per media type (by default every
    format Canon reads). Synchronous and CPU-bound: run it in a worker thread."""

    def __init__(
        self,
        extractors: Iterable[FormatExtractor] | None = None,
        *,
        limits: ExtractionLimits = DEFAULT_LIMITS,
    ) -> None:
        self._limits = limits
        self._by_type: dict[str, FormatExtractor] = {}
        for extractor in default_extractors() if extractors is None else extractors:
            for media_type in extractor.media_types:
                self._by_type.setdefault(media_type, extractor)

    @property
    def media_types(self) -> frozenset[str]:
        return frozenset(self._by_type)

    @property
    def limits(self) -> ExtractionLimits:
        return self._limits

    def extract(self, data: bytes, *, file_name: str, declared_mime: str | None) -> ExtractedDocument:
        limits = self._limits
        if not data.strip():
            raise ExtractionError(ExtractionFailure.EMPTY, "The file is empty.")
        if len(data) > limits.max_bytes:
            raise ExtractionError(
                ExtractionFailure.TOO_LARGE,
                f"The file has {len(data):,} bytes, more than the {limits.max_bytes:,} allowed.",
            )
        media_type = resolve(data, file_name=file_name, declared=declared_mime)
        extractor = self._by_type.get(media_type)
        if extractor is None:
            raise ExtractionError(
                ExtractionFailure.UNSUPPORTED, f"This installation cannot read {describe(media_type)} files."
            )
        document = extractor.extract(data, file_name=file_name, media_type=media_type, limits=limits)
        if not document.has_text:
            raise ExtractionError(
                ExtractionFailure.NO_TEXT, f"No text could be found in this {describe(media_type)} file."
            )
        if document.char_count > limits.max_chars:
            raise ExtractionError(
                ExtractionFailure.TOO_LONG,
                f"The document has {document.char_count:,} characters of text, more than the "
                f"{limits.max_chars:,} allowed: split it into several files.",
            )
        return document
