"""GetCreator: a creator's public profile (and, for its members, who the members are)."""

from __future__ import annotations

from dataclasses import dataclass

from application.catalogue.ports import CreatorRepository
from application.errors import NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from domain.catalogue import Creator


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCreatorQuery:
    principal: Principal
    creator_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatorView:
    creator: Creator
    members_visible: bool


class GetCreator:
    """Reads one creator profile.

    - Profiles are public (``creator.view``); a missing one is 404.
    - The member list is shown only to those who may manage the profile (owners and admins):
      who assists a creator is not public.
    """

    def __init__(self, authorizer: Authorizer, creators: CreatorRepository) -> None:
        self._authorizer = authorizer
        self._creators = creators

    async def __call__(self, query: GetCreatorQuery) -> CreatorView:
        resource = Resource.creator(query.creator_id)
        await self._authorizer.require(query.principal, Action.CREATOR_VIEW, resource)
        creator = await self._creators.get(query.creator_id)
        if creator is None:
            raise NotFound("creator not found", code="not-found")
        visible = await self._authorizer.allows(query.principal, Action.CREATOR_UPDATE_PROFILE, resource)
        return CreatorView(creator=creator, members_visible=visible)
