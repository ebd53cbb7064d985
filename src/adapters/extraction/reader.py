"""The ingestion job's ``DocumentReader``: the (synchronous, CPU-bound) ``DocumentExtractor`` run
in a worker thread so the event loop keeps serving while a book is parsed.

Extraction failures are ``ExtractionError`` (an ``UnreadableFile``): the file ends FAILED with
the reason. Anything else escapes as is and the job is retried.
"""

from __future__ import annotations

import asyncio

from adapters.extraction.registry import ExtractorRegistry
from application.ingestion.ports import DocumentExtractor, ExtractionLimits
from domain.text.document import ExtractedDocument


class ExtractingDocumentReader:
    """``DocumentReader`` over a ``DocumentExtractor`` (every supported format by default)."""

    def __init__(
        self, extractor: DocumentExtractor | None = None, *, limits: ExtractionLimits | None = None
    ) -> None:
        if extractor is not None and limits is not None:
            raise ValueError("Pass limits to the extractor you give, not beside it.")
        self._extractor: DocumentExtractor = extractor or (
            ExtractorRegistry(limits=limits) if limits is not None else ExtractorRegistry()
        )

    async def read(self, data: bytes, *, media_type: str, file_name: str) -> ExtractedDocument:
        return await asyncio.to_thread(
            self._extractor.extract, data, file_name=file_name, declared_mime=media_type
        )
