"""Sources, their revenue shares (current and history) and their files.

The current split lives in ``source_creator``; every change also appends rows to
``source_creator_share_history`` (one per creator, a removed creator recorded with share 0), so
``shares_at`` can answer which split applied at any moment and nothing ever rewrites the past.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import File as FileRow
from adapters.persistence.models import Source as SourceRow
from adapters.persistence.models import SourceCreator, SourceCreatorShareHistory
from adapters.persistence.repositories._support import atomic, execute_update, fresh, lock_row
from application.catalogue.ports import ShareSetVersion
from application.errors import Conflict, InvalidInput, NotFound
from domain.catalogue import FileStatus, Source, SourceFile, SourceType
from domain.shares import RevenueShare, ShareSet

History = SourceCreatorShareHistory


def _to_datetime(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day is not None else None


def _descriptive(source: Source) -> dict[str, object]:
    return {
        "title": source.title,
        "type": enums.SourceType(source.type.value),
        "author": source.author,
        "publisher": source.publisher,
        "publication_date": _to_datetime(source.publication_date),
        "isbn": source.isbn,
        "url": source.url,
        "description": source.description,
        "metadata_": dict(source.metadata) or None,
    }


def _to_source(row: SourceRow, shares: ShareSet) -> Source:
    return Source(
        id=row.id,
        title=row.title,
        type=SourceType(row.type.value),
        created_by=row.created_by_user_id,
        shares=shares,
        author=row.author,
        publisher=row.publisher,
        publication_date=row.publication_date.date() if row.publication_date is not None else None,
        isbn=row.isbn,
        url=row.url,
        description=row.description,
        metadata=dict(row.metadata_ or {}),
    )


def _share_set(pairs: list[tuple[str, Decimal]]) -> ShareSet:
    return ShareSet(tuple((cid, RevenueShare(value)) for cid, value in pairs if value != 0))


def _file_fields(file: SourceFile) -> dict[str, object]:
    return {
        "status": enums.FileStatus(file.status.value),
        "failure_reason": file.failure_reason,
        "is_active": file.is_active,
        "replaced_by_file_id": file.replaced_by_file_id,
    }


def _to_file(row: FileRow) -> SourceFile:
    return SourceFile(
        id=row.id,
        owner_user_id=row.owner_user_id,
        file_name=row.file_name,
        mime_type=row.mime_type,
        size_bytes=row.size_bytes,
        storage_key=row.blob_url,
        source_id=row.source_id,
        creator_id=row.creator_id,
        status=FileStatus(row.status.value),
        failure_reason=row.failure_reason,
        is_active=row.is_active,
        replaced_by_file_id=row.replaced_by_file_id,
    )


class SqlAlchemySourceRepository:
    """``SourceRepository`` over SQLAlchemy."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # sources -------------------------------------------------------------------------------
    async def add(self, source: Source, *, effective_from: datetime) -> None:
        async with atomic(self._session):
            self._session.add(
                SourceRow(id=source.id, created_by_user_id=source.created_by, **_descriptive(source))
            )
            await self._session.flush()  # the parent row first: no relationship() orders it
            for creator_id, share in source.shares:
                self._session.add(
                    SourceCreator(
                        source_id=source.id,
                        creator_id=creator_id,
                        added_by_user_id=source.created_by,
                        revenue_share=share.value,
                    )
                )
            self._add_history(source.id, source.shares, (), effective_from, source.created_by)

    async def get(self, source_id: str) -> Source | None:
        row = await self._session.scalar(fresh(select(SourceRow).where(SourceRow.id == source_id)))
        if row is None:
            return None
        return _to_source(row, (await self._current_shares([row.id]))[row.id])

    async def list_by_creator(self, creator_id: str) -> list[Source]:
        mine = select(SourceCreator.source_id).where(SourceCreator.creator_id == creator_id)
        rows = (
            await self._session.scalars(
                fresh(
                    select(SourceRow)
                    .where(SourceRow.id.in_(mine))
                    .order_by(SourceRow.created_at, SourceRow.id)
                )
            )
        ).all()
        shares = await self._current_shares([r.id for r in rows])
        return [_to_source(row, shares[row.id]) for row in rows]

    async def save(self, source: Source) -> None:
        async with atomic(self._session):
            count = await execute_update(
                self._session,
                update(SourceRow).where(SourceRow.id == source.id).values(**_descriptive(source)),
            )
        if count == 0:
            raise NotFound(f"source {source.id!r} does not exist", code="source-not-found")

    # shares --------------------------------------------------------------------------------
    async def change_shares(
        self, source_id: str, shares: ShareSet, *, effective_from: datetime, changed_by: str
    ) -> None:
        if not isinstance(shares, ShareSet):
            raise InvalidInput("shares must be a ShareSet", errors={"shares": "not a ShareSet"})
        # Serializes concurrent changes of one source, so "latest change" below stays true.
        await lock_row(self._session, SourceRow.id, source_id, what="source")
        latest = await self._session.scalar(
            select(func.max(History.effective_from)).where(History.source_id == source_id)
        )
        if latest is not None and effective_from <= latest:
            code = "share-change-conflict" if effective_from == latest else "shares-changed-later"
            raise Conflict(f"the shares of {source_id!r} already changed at {latest.isoformat()}", code=code)
        current = await self._session.execute(
            select(SourceCreator.creator_id, SourceCreator.revenue_share).where(
                SourceCreator.source_id == source_id
            )
        )
        old = dict(current.all())
        new = shares.weights()
        async with atomic(self._session):
            removed = [cid for cid in old if cid not in new]
            if removed:
                await execute_update(
                    self._session,
                    delete(SourceCreator).where(
                        SourceCreator.source_id == source_id, SourceCreator.creator_id.in_(removed)
                    ),
                )
            for creator_id, value in new.items():
                if creator_id not in old:
                    self._session.add(
                        SourceCreator(
                            source_id=source_id,
                            creator_id=creator_id,
                            added_by_user_id=changed_by,
                            revenue_share=value,
                        )
                    )
                elif old[creator_id] != value:
                    await execute_update(
                        self._session,
                        update(SourceCreator)
                        .where(SourceCreator.source_id == source_id, SourceCreator.creator_id == creator_id)
                        .values(revenue_share=value),
                    )
            self._add_history(source_id, shares, removed, effective_from, changed_by)

    async def share_history(self, source_id: str) -> list[ShareSetVersion]:
        rows = await self._session.execute(
            select(History.effective_from, History.changed_by_user_id, History.creator_id, History.share)
            .where(History.source_id == source_id)
            .order_by(History.effective_from, History.creator_id)
        )
        grouped: dict[datetime, list[tuple[str, Decimal]]] = defaultdict(list)
        by: dict[datetime, str | None] = {}
        for moment, changed_by, creator_id, share in rows:
            grouped[moment].append((creator_id, share))
            by[moment] = changed_by
        return [
            ShareSetVersion(
                source_id=source_id, shares=_share_set(pairs), effective_from=moment, changed_by=by[moment]
            )
            for moment, pairs in grouped.items()
        ]

    async def shares_at(self, source_id: str, moment: datetime) -> ShareSet | None:
        start = (
            select(func.max(History.effective_from))
            .where(History.source_id == source_id, History.effective_from <= moment)
            .scalar_subquery()
        )
        rows = await self._session.execute(
            select(History.creator_id, History.share).where(
                History.source_id == source_id, History.effective_from == start
            )
        )
        pairs = [(creator_id, share) for creator_id, share in rows]
        return _share_set(pairs) if pairs else None

    # files ---------------------------------------------------------------------------------
    async def add_file(self, file: SourceFile) -> None:
        if file.creator_id is None:
            # file.creator_id is NOT NULL in the schema: every stored file is billed to a creator.
            raise InvalidInput("a stored file needs a creator", errors={"creator_id": "missing"})
        async with atomic(self._session):
            self._session.add(
                FileRow(
                    id=file.id,
                    source_id=file.source_id,
                    owner_user_id=file.owner_user_id,
                    creator_id=file.creator_id,
                    blob_url=file.storage_key,
                    file_name=file.file_name,
                    mime_type=file.mime_type,
                    size_bytes=file.size_bytes,
                    **_file_fields(file),
                )
            )

    async def get_file(self, file_id: str) -> SourceFile | None:
        row = await self._session.scalar(fresh(select(FileRow).where(FileRow.id == file_id)))
        return _to_file(row) if row is not None else None

    async def save_file(self, file: SourceFile) -> None:
        async with atomic(self._session):
            count = await execute_update(
                self._session, update(FileRow).where(FileRow.id == file.id).values(**_file_fields(file))
            )
        if count == 0:
            raise NotFound(f"file {file.id!r} does not exist", code="file-not-found")

    async def files_of(self, source_id: str, *, active_only: bool = False) -> list[SourceFile]:
        query = select(FileRow).where(FileRow.source_id == source_id)
        if active_only:
            query = query.where(FileRow.is_active.is_(True))
        rows = await self._session.scalars(fresh(query.order_by(FileRow.created_at, FileRow.id)))
        return [_to_file(row) for row in rows]

    # helpers -------------------------------------------------------------------------------
    def _add_history(
        self, source_id: str, shares: ShareSet, removed: list[str] | tuple[()], at: datetime, by: str
    ) -> None:
        entries = [(cid, share.value) for cid, share in shares] + [(cid, Decimal(0)) for cid in removed]
        for creator_id, value in entries:
            self._session.add(
                History(
                    source_id=source_id,
                    creator_id=creator_id,
                    share=value,
                    effective_from=at,
                    changed_by_user_id=by,
                )
            )

    async def _current_shares(self, source_ids: list[str]) -> dict[str, ShareSet]:
        if not source_ids:
            return {}
        rows = await self._session.execute(
            select(SourceCreator.source_id, SourceCreator.creator_id, SourceCreator.revenue_share).where(
                SourceCreator.source_id.in_(source_ids)
            )
        )
        pairs: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        for source_id, creator_id, share in rows:
            if share is not None:
                pairs[source_id].append((creator_id, share))
        return {sid: _share_set(pairs[sid]) for sid in source_ids}
