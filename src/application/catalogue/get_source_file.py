"""GetSourceFile: one uploaded file, its status and what ingestion made of it."""

from __future__ import annotations

from dataclasses import dataclass

from application.catalogue.ports import SourceRepository
from application.errors import NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ingestion.store import FileRecord, IngestionStore
from domain.catalogue import SourceFile


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSourceFileQuery:
    principal: Principal
    source_id: str
    file_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFileDetails:
    file: SourceFile
    record: FileRecord


class GetSourceFile:
    """Reads one file of a source (to follow PENDING -> PROCESSING -> READY or FAILED).

    - Whoever may view the source (``source.view``); a file of another source is 404.
    """

    def __init__(self, authorizer: Authorizer, sources: SourceRepository, records: IngestionStore) -> None:
        self._authorizer = authorizer
        self._sources = sources
        self._records = records

    async def __call__(self, query: GetSourceFileQuery) -> SourceFileDetails:
        await self._authorizer.require(query.principal, Action.SOURCE_VIEW, Resource.source(query.source_id))
        file = await self._sources.get_file(query.file_id)
        record = await self._records.record(query.file_id)
        if file is None or record is None or file.source_id != query.source_id:
            raise NotFound("file not found", code="file-not-found")
        return SourceFileDetails(file=file, record=record)
