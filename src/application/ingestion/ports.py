"""Extraction port: the bytes of an uploaded file in, its text in reading order out.

`DocumentExtractor.extract` is synchronous on purpose: parsing a PDF or an EPUB is CPU-bound
work on bytes already in memory, with no I/O to await. An async caller runs it in a worker
thread (``asyncio.to_thread``), as ``adapters.extraction.reader.ExtractingDocumentReader`` does
for the ingestion job, so the event loop keeps serving requests while a book is parsed.

A file that cannot be read because of what it *is* raises `ExtractionError` with a stable
``code`` (one of `ExtractionFailure`) and a ``reason`` written for the creator. It is an
`UnreadableFile`, so ingestion marks the file FAILED instead of retrying it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from application.errors import InvalidInput
from application.ingestion.reading import UnreadableFile
from domain.text.document import ExtractedDocument


class ExtractionFailure(StrEnum):
    """Why a file could not be read. The values are stable codes: clients branch on them."""

    EMPTY = "file-empty"
    TOO_LARGE = "file-too-large"
    """More bytes than ``ExtractionLimits.max_bytes``."""
    TOO_LONG = "document-too-long"
    """More pages or characters than the limits allow."""
    UNSUPPORTED = "unsupported-content-type"
    MISMATCH = "content-type-mismatch"
    """The declared type contradicts what the bytes are."""
    TEXT_ENCODING = "text-encoding-unsupported"
    """Text that is neither UTF-8 nor UTF-16 with a byte-order mark."""
    PDF_ENCRYPTED = "pdf-encrypted"
    PDF_CORRUPT = "pdf-corrupt"
    ARCHIVE_BOMB = "archive-bomb"
    """An EPUB or DOCX that would expand far beyond its size (a zip bomb)."""
    ARCHIVE_CORRUPT = "archive-corrupt"
    """An EPUB or DOCX whose zip container or contents cannot be read."""
    ARCHIVE_ENCRYPTED = "archive-encrypted"
    """An EPUB or DOCX whose content is encrypted (DRM, a password-protected zip)."""
    NO_TEXT = "no-extractable-text"
    """A well-formed file without text, such as a scanned PDF with no text layer."""


class ExtractionError(UnreadableFile):
    """The file cannot be read; retrying will not help. ``code`` is an `ExtractionFailure`
    value, ``reason`` says what is wrong and, where possible, what to do about it."""

    def __init__(self, code: ExtractionFailure, reason: str) -> None:
        super().__init__(reason, code=code.value, extra={"reason": reason})
        self.failure = code
        self.reason = reason

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[ExtractionFailure, str]]:
        # job runners pickle exceptions across processes; the default would lose the code
        return (type(self), (self.failure, self.reason))


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractionLimits:
    """Bounds that keep one upload from exhausting a worker's memory or time.

    ``max_uncompressed_bytes`` and ``max_compression_ratio`` are checked on the zip directory
    of EPUB and DOCX files before any member is decompressed; the ratio only counts once the
    archive expands beyond ``ratio_floor_bytes``, because small text files compress very well
    legitimately.
    """

    max_bytes: int = 200 * 1024 * 1024
    max_pages: int = 5_000
    max_chars: int = 20_000_000
    max_uncompressed_bytes: int = 512 * 1024 * 1024
    max_compression_ratio: float = 100.0
    ratio_floor_bytes: int = 8 * 1024 * 1024
    max_archive_members: int = 20_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pages", "max_chars", "max_uncompressed_bytes", "max_archive_members"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be positive.", errors={name: "< 1"})
        if self.max_compression_ratio <= 1 or self.ratio_floor_bytes < 0:
            raise InvalidInput(
                "A compression ratio limit must exceed 1 and its floor cannot be negative.",
                errors={"max_compression_ratio": "<= 1"},
            )


DEFAULT_LIMITS = ExtractionLimits()


class DocumentExtractor(Protocol):
    """Reads one uploaded file. Synchronous and CPU-bound: call it from a worker thread."""

    def extract(self, data: bytes, *, file_name: str, declared_mime: str | None) -> ExtractedDocument:
        """The file's text in reading order, with pages, sections, chapters or timestamps.

        The type is sniffed from ``data``; ``declared_mime`` (what the uploader or an earlier
        sniff said, None if nothing) must not contradict it. ``file_name`` only breaks ties
        the bytes cannot (Markdown or plain text). Raises `ExtractionError`.
        """
        ...
