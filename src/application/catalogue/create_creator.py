"""CreateCreator: a signed-in user starts a creator profile and becomes its OWNER."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from application.catalogue.ports import CreatorRepository
from application.errors import NotAuthenticated
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.audit import AuditLog
from application.ports.uow import UnitOfWork
from domain.catalogue import Creator
from domain.ids import new_id
from domain.roles import CreatorMembers
from domain.slug import Slug


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateCreatorCommand:
    principal: Principal
    name: str
    slug: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    social_links: Mapping[str, str] = field(default_factory=dict)


class CreateCreator:
    """Creates a creator profile.

    - Any signed-in user may (``creator.create``); an API key or an anonymous visitor may not.
    - The caller becomes the profile's only OWNER (a profile always has one).
    - The slug defaults to one made from the name; a taken slug is Conflict
      ``creator-slug-taken``; a bad name, slug, avatar URL or link is 422.
    - Audited (``creator.created``).
    """

    def __init__(
        self, authorizer: Authorizer, creators: CreatorRepository, audit: AuditLog, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._creators = creators
        self._audit = audit
        self._uow = uow

    async def __call__(self, command: CreateCreatorCommand) -> Creator:
        await self._authorizer.require(command.principal, Action.CREATOR_CREATE, Resource.platform())
        user_id = command.principal.user_id
        if user_id is None:
            raise NotAuthenticated("sign in as a person to create a creator", code="login-required")
        slug = Slug(command.slug) if command.slug else Slug.from_text(command.name)
        creator = Creator(
            id=new_id(),
            name=command.name.strip(),
            slug=slug,
            members=CreatorMembers.founded_by(user_id),
            bio=command.bio,
            avatar_url=command.avatar_url,
            social_links=dict(command.social_links),
        )
        await self._creators.add(creator)
        await self._audit.record(
            command.principal,
            "creator.created",
            subject_type="creator",
            subject_id=creator.id,
            after={"slug": slug.value, "owner_user_id": user_id},
        )
        await self._uow.commit()
        return creator
