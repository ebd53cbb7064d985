"""The sources chatbots may draw on: ``SourceDirectory`` over SQLAlchemy."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import File, SourceCreator


class SqlSourceDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def active_sources_by_creator(self, creator_ids: Collection[str]) -> Mapping[str, frozenset[str]]:
        ids = list(dict.fromkeys(creator_ids))
        if not ids:
            return {}
        # A source answers only once one of its files is ingested and still the active copy.
        ready = (
            select(File.source_id)
            .where(File.is_active.is_(True), File.status == enums.FileStatus.READY)
            .where(File.source_id.is_not(None))
        )
        rows = await self._session.execute(
            select(SourceCreator.creator_id, SourceCreator.source_id).where(
                SourceCreator.creator_id.in_(ids), SourceCreator.source_id.in_(ready)
            )
        )
        found: dict[str, set[str]] = {}
        for creator_id, source_id in rows:
            found.setdefault(creator_id, set()).add(source_id)
        return {c: frozenset(s) for c, s in found.items()}
