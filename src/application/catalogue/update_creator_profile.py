"""UpdateCreatorProfile: name, slug, bio, avatar and social links of a creator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from application.catalogue.ports import CreatorRepository
from application.errors import NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.uow import UnitOfWork
from domain.catalogue import Creator
from domain.slug import Slug


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateCreatorProfileCommand:
    """Fields left as None are unchanged; an empty string clears bio or avatar."""

    principal: Principal
    creator_id: str
    name: str | None = None
    slug: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    social_links: Mapping[str, str] | None = None


class UpdateCreatorProfile:
    """Edits a creator's public profile.

    - Owners and admins only (``creator.update-profile``); members and strangers are refused.
    - Every field is validated as at creation; a taken slug is Conflict ``creator-slug-taken``.
    - Members are never changed here (see the member use cases).
    """

    def __init__(self, authorizer: Authorizer, creators: CreatorRepository, uow: UnitOfWork) -> None:
        self._authorizer = authorizer
        self._creators = creators
        self._uow = uow

    async def __call__(self, command: UpdateCreatorProfileCommand) -> Creator:
        await self._authorizer.require(
            command.principal, Action.CREATOR_UPDATE_PROFILE, Resource.creator(command.creator_id)
        )
        current = await self._creators.get(command.creator_id)
        if current is None:
            raise NotFound("creator not found", code="not-found")
        updated = Creator(
            id=current.id,
            name=command.name.strip() if command.name is not None else current.name,
            slug=Slug(command.slug) if command.slug is not None else current.slug,
            members=current.members,
            bio=(command.bio or None) if command.bio is not None else current.bio,
            avatar_url=(command.avatar_url or None) if command.avatar_url is not None else current.avatar_url,
            social_links=dict(command.social_links)
            if command.social_links is not None
            else dict(current.social_links),
        )
        await self._creators.save_profile(updated)
        await self._uow.commit()
        return updated
