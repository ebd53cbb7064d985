"""CreateChatbot: a new chatbot owned by one creator, live as version 1."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from application.chatbots.config_input import apply_changes
from application.chatbots.ports import ChatbotRepository
from application.chatbots.views import ChatbotDetails
from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.chatbots import Chatbot, ChatbotType, VersionHistory
from domain.errors import InvalidValue
from domain.ids import new_id
from domain.roles import ChatbotOwners
from domain.slug import Slug


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateChatbotCommand:
    principal: Principal
    creator_id: str  # becomes the PRIMARY_OWNER
    settings: Mapping[str, Any] = field(default_factory=dict)  # see config_input.FIELDS; title required
    slug: str | None = None  # default: from the title


class CreateChatbot:
    """Creates a chatbot with its first version, already live (private until published).

    - Only who may manage the creator's chatbots (its owner or admins) may create one.
    - The creator becomes the one PRIMARY_OWNER; more owners are added afterwards.
    - A CREATOR chatbot speaks for its creator: one per creator, held by the database even when
      two creations race (Conflict ``creator-chatbot-exists``).
    - The slug is unique (Conflict ``chatbot-slug-taken``); default from the title.
    - The version's author is the signed-in user; API keys act for their creator's owner, who
      must exist as a user to author versions, so a key cannot create chatbots by itself.
    """

    def __init__(
        self, authorizer: Authorizer, chatbots: ChatbotRepository, clock: Clock, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: CreateChatbotCommand) -> ChatbotDetails:
        p = command.principal
        await self._authorizer.require(p, Action.CHATBOT_CREATE, Resource.creator(command.creator_id))
        if p.user_id is None:
            raise InvalidInput(
                "versions are authored by a signed-in user", errors={"principal": "sign in as a user"}
            )
        config = apply_changes(None, {"type": ChatbotType.FRAMEWORK.value, **command.settings})
        try:
            slug = Slug(command.slug) if command.slug is not None else Slug.from_text(config.title)
        except InvalidValue as exc:
            raise InvalidInput(exc.message, errors={"slug": exc.message}, code=exc.code) from exc
        chatbot_id = new_id()
        history = VersionHistory(chatbot_id)
        version = history.publish(config, at=self._clock.now(), by=p.user_id).version
        chatbot = Chatbot(
            id=chatbot_id, slug=slug, type=config.type, owners=ChatbotOwners.founded_by(command.creator_id)
        )
        chatbot.point_to(version)
        await self._chatbots.add(chatbot, version)
        await self._uow.commit()
        return ChatbotDetails(chatbot=chatbot, current=version)
