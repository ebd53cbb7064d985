"""CategorizeChatbot: place a chatbot in a category with a relevance score, or take it out."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.discovery_ports import ChatbotDiscovery
from application.errors import InvalidInput
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class CategorizeChatbotCommand:
    principal: Principal
    chatbot_id: str
    category_id: str
    relevance: float | None = None  # 0..1; None: unscored
    remove: bool = False


class CategorizeChatbot:
    """Categories place a chatbot in discovery (ROLE / CHALLENGE / STAGE).

    - Who may edit the configuration (PRIMARY_OWNER, CO_OWNER) places it; this is discovery
      metadata, not configuration, so it creates no version.
    - Relevance is between 0 and 1; setting it again replaces it.
    """

    def __init__(self, authorizer: Authorizer, discovery: ChatbotDiscovery, uow: UnitOfWork) -> None:
        self._authorizer = authorizer
        self._discovery = discovery
        self._uow = uow

    async def __call__(self, command: CategorizeChatbotCommand) -> bool:
        await self._authorizer.require(
            command.principal, Action.CHATBOT_UPDATE_CONFIG, Resource.chatbot(command.chatbot_id)
        )
        if command.relevance is not None and not 0 <= command.relevance <= 1:
            raise InvalidInput("relevance is a score from 0 to 1", errors={"relevance": "must be 0..1"})
        if command.remove:
            changed = await self._discovery.remove_chatbot_category(command.chatbot_id, command.category_id)
        else:
            await self._discovery.set_chatbot_category(
                command.chatbot_id, command.category_id, command.relevance
            )
            changed = True
        await self._uow.commit()
        return changed
