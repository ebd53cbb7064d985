"""The ingestion store over SQLAlchemy: the ``file`` row's ingestion columns and the ``chunk``
table (the authoritative copy of everything in the vector index)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import Chunk as ChunkRow
from adapters.persistence.models import File as FileRow
from adapters.persistence.repositories._support import atomic, execute_update
from application.errors import NotFound
from application.ingestion.store import FileRecord, StoredChunk

_INSERT_BATCH = 500
_FILE = FileRow.__table__
# Which files may answer (``application.ingestion.visible_index``): built once, over the table.
_SEARCHABLE = select(_FILE.c.id).where(
    _FILE.c.source_id.in_(bindparam("source_ids", expanding=True)),
    _FILE.c.is_active.is_(True),
    _FILE.c.status == enums.FileStatus.READY,
)


class SqlAlchemyIngestionStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _update_file(self, file_id: str, **values: object) -> None:
        async with atomic(self._session):
            count = await execute_update(
                self._session, update(FileRow).where(FileRow.id == file_id).values(**values)
            )
        if count == 0:
            raise NotFound(f"file {file_id!r} does not exist", code="file-not-found")

    async def set_checksum(self, file_id: str, checksum_sha256: str) -> None:
        await self._update_file(file_id, checksum_sha256=checksum_sha256)

    async def record(self, file_id: str) -> FileRecord | None:
        row = (
            await self._session.execute(
                select(
                    FileRow.checksum_sha256,
                    FileRow.page_count,
                    FileRow.chunk_count,
                    FileRow.token_count,
                    FileRow.ingested_at,
                ).where(FileRow.id == file_id)
            )
        ).first()
        if row is None:
            return None
        return FileRecord(
            file_id=file_id,
            checksum_sha256=row.checksum_sha256,
            page_count=row.page_count,
            chunk_count=row.chunk_count or 0,
            token_count=row.token_count or 0,
            ingested_at=row.ingested_at,
        )

    async def replace_chunks(self, file_id: str, chunks: Sequence[StoredChunk]) -> None:
        async with atomic(self._session):
            await execute_update(self._session, delete(ChunkRow).where(ChunkRow.file_id == file_id))
            rows = [
                {
                    "id": c.id,
                    "file_id": file_id,
                    "source_id": c.source_id,
                    "ordinal": c.ordinal,
                    "text": c.text,
                    "token_count": c.token_count,
                    "page": c.page,
                    "section": c.section,
                    "chapter": c.chapter,
                    "start_seconds": c.start_seconds,
                    "end_seconds": c.end_seconds,
                    "checksum": c.checksum,
                }
                for c in chunks
            ]
            for start in range(0, len(rows), _INSERT_BATCH):
                await self._session.execute(insert(ChunkRow), rows[start : start + _INSERT_BATCH])

    async def chunks_of(self, file_id: str) -> list[StoredChunk]:
        rows = await self._session.scalars(
            select(ChunkRow).where(ChunkRow.file_id == file_id).order_by(ChunkRow.ordinal)
        )
        return [
            StoredChunk(
                id=r.id,
                file_id=r.file_id,
                source_id=r.source_id,
                ordinal=r.ordinal,
                text=r.text,
                token_count=r.token_count,
                checksum=r.checksum,
                page=r.page,
                section=r.section,
                chapter=r.chapter,
                start_seconds=r.start_seconds,
                end_seconds=r.end_seconds,
            )
            for r in rows
        ]

    async def record_result(
        self,
        file_id: str,
        *,
        page_count: int | None,
        chunk_count: int,
        token_count: int,
        ingested_at: datetime | None,
    ) -> None:
        await self._update_file(
            file_id,
            page_count=page_count,
            chunk_count=chunk_count,
            token_count=token_count,
            ingested_at=ingested_at,
        )

    async def searchable_file_ids(self, source_ids: Collection[str]) -> set[str]:
        ids = list(source_ids)
        if not ids:
            return set()
        return set(await self._session.scalars(_SEARCHABLE, {"source_ids": ids}))
