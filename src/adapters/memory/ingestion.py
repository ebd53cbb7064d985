"""In-memory ingestion store: the fake of ``application.ingestion.store.IngestionStore``.

Files come from the shared in-memory tables (so status and activity are the repository's);
checksums, counts and chunks live in an ``InMemoryIngestionData`` shared by every store made for
one test. Those writes are not rolled back with the session: ingestion writes them only in the
transaction that also commits, so a use-case test cannot tell the difference.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from adapters.memory.store import InMemorySession
from application.errors import NotFound
from application.ingestion.store import FileRecord, StoredChunk
from domain.catalogue import FileStatus


@dataclass
class InMemoryIngestionData:
    records: dict[str, FileRecord] = field(default_factory=dict)
    chunks: dict[str, list[StoredChunk]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.records and not self.chunks


class InMemoryIngestionStore:
    def __init__(self, session: InMemorySession, data: InMemoryIngestionData) -> None:
        self._session = session
        self._data = data

    async def _require(self, file_id: str) -> FileRecord:
        if file_id not in (await self._session.tables()).files:
            raise NotFound(f"file {file_id!r} does not exist", code="file-not-found")
        return self._data.records.get(file_id) or FileRecord(
            file_id=file_id,
            checksum_sha256=None,
            page_count=None,
            chunk_count=0,
            token_count=0,
            ingested_at=None,
        )

    async def set_checksum(self, file_id: str, checksum_sha256: str) -> None:
        self._data.records[file_id] = replace(await self._require(file_id), checksum_sha256=checksum_sha256)

    async def record(self, file_id: str) -> FileRecord | None:
        if file_id not in (await self._session.tables()).files:
            return None
        return await self._require(file_id)

    async def replace_chunks(self, file_id: str, chunks: Sequence[StoredChunk]) -> None:
        await self._require(file_id)
        if chunks:
            self._data.chunks[file_id] = sorted(chunks, key=lambda c: c.ordinal)
        else:
            self._data.chunks.pop(file_id, None)

    async def chunks_of(self, file_id: str) -> list[StoredChunk]:
        return list(self._data.chunks.get(file_id, []))

    async def record_result(
        self,
        file_id: str,
        *,
        page_count: int | None,
        chunk_count: int,
        token_count: int,
        ingested_at: datetime | None,
    ) -> None:
        self._data.records[file_id] = replace(
            await self._require(file_id),
            page_count=page_count,
            chunk_count=chunk_count,
            token_count=token_count,
            ingested_at=ingested_at,
        )

    async def searchable_file_ids(self, source_ids: Collection[str]) -> set[str]:
        wanted = set(source_ids)
        files = (await self._session.tables()).files.values()
        return {f.id for f in files if f.source_id in wanted and f.is_active and f.status is FileStatus.READY}
