"""The ingestion store port: what ingestion records beside a file (checksum, counts) and the
authoritative copy of its chunks (the ``chunk`` table), from which the vector index can be
rebuilt and against which citations are resolved.

Visibility rule (why readers never see half a file, nor two versions of one source): the vector
index may briefly hold chunks of a file that is still PROCESSING, or of a file that was just
replaced, but a chunk is only ever *answered with* when its file is active and READY
(``searchable_file_ids``). The switch from an old file to its replacement is one database
transaction (new file READY, old file inactive), so to a reader it is atomic; the old file's
vectors are removed after that commit, at leisure.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredChunk:
    id: str
    file_id: str
    source_id: str
    ordinal: int
    text: str
    token_count: int
    checksum: str
    page: int | None = None
    section: str | None = None
    chapter: str | None = None
    start_seconds: float | None = None
    end_seconds: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRecord:
    """What ingestion knows about a file beyond its status."""

    file_id: str
    checksum_sha256: str | None
    page_count: int | None
    chunk_count: int
    token_count: int
    ingested_at: datetime | None


class IngestionStore(Protocol):
    async def set_checksum(self, file_id: str, checksum_sha256: str) -> None:
        """NotFound (``file-not-found``) if the file does not exist."""
        ...

    async def record(self, file_id: str) -> FileRecord | None: ...

    async def replace_chunks(self, file_id: str, chunks: Sequence[StoredChunk]) -> None:
        """Makes ``chunks`` the file's chunks (any earlier ones of that file are dropped), so
        running it twice leaves the same rows."""
        ...

    async def chunks_of(self, file_id: str) -> list[StoredChunk]:
        """Ordered by ordinal."""
        ...

    async def record_result(
        self,
        file_id: str,
        *,
        page_count: int | None,
        chunk_count: int,
        token_count: int,
        ingested_at: datetime | None,
    ) -> None: ...

    async def searchable_file_ids(self, source_ids: Collection[str]) -> set[str]:
        """The files of ``source_ids`` whose chunks may be answered with: active and READY."""
        ...
