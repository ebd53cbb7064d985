"""The port ingestion reads documents through: bytes of a known (sniffed) media type in, an
``ExtractedDocument`` out. Extractors for each format sit behind it (``adapters/extraction``).

A file that cannot be read because of what it *is* (corrupt, encrypted, a zip bomb, no text)
raises ``UnreadableFile`` with a reason written for the creator; the file then ends FAILED with
that reason. Any other error is treated as transient and the ingestion job is retried.
"""

from __future__ import annotations

from typing import Protocol

from application.errors import ApplicationError
from domain.text.document import ExtractedDocument


class UnreadableFile(ApplicationError):
    """The file itself is the problem; retrying cannot help."""

    code = "unreadable-file"


class DocumentReader(Protocol):
    async def read(self, data: bytes, *, media_type: str, file_name: str) -> ExtractedDocument:
        """The document's text in reading order; ``UnreadableFile`` if it has none to give."""
        ...
