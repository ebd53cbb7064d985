"""ListMyCreators: the creator profiles the signed-in user belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from application.catalogue.ports import CreatorMembership, CreatorRepository
from application.identity.principal import Principal
from domain.roles import CreatorRole


@dataclass(frozen=True, slots=True, kw_only=True)
class ListMyCreatorsQuery:
    principal: Principal


class ListMyCreators:
    """Lists the caller's memberships, ordered by slug.

    - Only the caller's own memberships, never anyone else's; an API key sees the one creator it
      acts for; an anonymous visitor has none.
    """

    def __init__(self, creators: CreatorRepository) -> None:
        self._creators = creators

    async def __call__(self, query: ListMyCreatorsQuery) -> list[CreatorMembership]:
        principal = query.principal
        if principal.user_id is not None:
            return await self._creators.list_for_user(principal.user_id)
        if principal.creator_id is not None:
            creator = await self._creators.get(principal.creator_id)
            return [] if creator is None else [CreatorMembership(creator=creator, role=CreatorRole.OWNER)]
        return []
