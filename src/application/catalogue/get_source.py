"""GetSource: a source with its current split, its share history and its files."""

from __future__ import annotations

from dataclasses import dataclass

from application.catalogue.ports import ShareSetVersion, SourceRepository
from application.errors import NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from domain.catalogue import Source, SourceFile


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSourceQuery:
    principal: Principal
    source_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceDetails:
    source: Source
    history: list[ShareSetVersion]
    files: list[SourceFile]


class GetSource:
    """Reads one source.

    - Sources are private to the members of the creators holding a share, and operators
      (``source.view``); anyone else gets the same 404 as for a missing source.
    - Files are listed oldest first, replaced ones included (inactive, with their replacement).
    """

    def __init__(self, authorizer: Authorizer, sources: SourceRepository) -> None:
        self._authorizer = authorizer
        self._sources = sources

    async def __call__(self, query: GetSourceQuery) -> SourceDetails:
        await self._authorizer.require(query.principal, Action.SOURCE_VIEW, Resource.source(query.source_id))
        source = await self._sources.get(query.source_id)
        if source is None:
            raise NotFound("source not found", code="not-found")
        return SourceDetails(
            source=source,
            history=await self._sources.share_history(query.source_id),
            files=await self._sources.files_of(query.source_id),
        )
