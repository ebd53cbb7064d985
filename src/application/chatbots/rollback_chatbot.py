"""RollbackChatbot: publish a copy of an earlier version's configuration."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots._loading import load_chatbot
from application.chatbots.ports import ChatbotRepository
from application.chatbots.views import ChatbotDetails
from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class RollbackChatbotCommand:
    principal: Principal
    chatbot_id: str
    to_version: int


class RollbackChatbot:
    """Rolls back by moving forward: a NEW version copying an old one's configuration.

    - PRIMARY_OWNER and CO_OWNER may roll back; when the rollback changes the price it also
      needs the right to change revenue settings (PRIMARY_OWNER), as an edit would.
    - Old versions are never revived or edited: conversations and ratings that point at them
      keep meaning what they meant. The copy's changelog says which version it restores.
    - Rolling back to the current version is refused (``already-current``); an unknown
      number is ``unknown-version``.
    """

    def __init__(
        self, authorizer: Authorizer, chatbots: ChatbotRepository, clock: Clock, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: RollbackChatbotCommand) -> ChatbotDetails:
        p, resource = command.principal, Resource.chatbot(command.chatbot_id)
        await self._authorizer.require(p, Action.CHATBOT_ROLLBACK, resource)
        if p.user_id is None:
            raise InvalidInput("versions are authored by a signed-in user", errors={"principal": "sign in"})
        chatbot = await load_chatbot(self._chatbots, command.chatbot_id)
        history = await self._chatbots.list_versions(chatbot.id)
        target, current = history.get(command.to_version), history.current
        if current is not None and target.config.price != current.config.price:
            await self._authorizer.require(p, Action.CHATBOT_CHANGE_REVENUE_SETTINGS, resource)
        publication = history.rollback(command.to_version, at=self._clock.now(), by=p.user_id)
        await self._chatbots.append_version(publication)
        await self._uow.commit()
        chatbot.point_to(publication.version)
        return ChatbotDetails(chatbot=chatbot, current=publication.version)
