"""ListCreatorSources: the sources a creator holds a share in."""

from __future__ import annotations

from dataclasses import dataclass

from application.catalogue.ports import SourceRepository
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from domain.catalogue import Source


@dataclass(frozen=True, slots=True, kw_only=True)
class ListCreatorSourcesQuery:
    principal: Principal
    creator_id: str


class ListCreatorSources:
    """Lists a creator's sources, oldest first.

    - Only members of the creator (``source.create`` on it: the same people who may add one)
      and API keys carrying it; sources are private, so the public sees none of them.
    """

    def __init__(self, authorizer: Authorizer, sources: SourceRepository) -> None:
        self._authorizer = authorizer
        self._sources = sources

    async def __call__(self, query: ListCreatorSourcesQuery) -> list[Source]:
        await self._authorizer.require(
            query.principal, Action.SOURCE_CREATE, Resource.creator(query.creator_id)
        )
        return await self._sources.list_by_creator(query.creator_id)
