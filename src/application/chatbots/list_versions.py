"""ListChatbotVersions: a chatbot's version history."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.ports import ChatbotRepository
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from domain.chatbots import ChatbotVersion


@dataclass(frozen=True, slots=True, kw_only=True)
class ListChatbotVersionsQuery:
    principal: Principal
    chatbot_id: str


class ListChatbotVersions:
    """Every version, oldest first, with when each was live.

    - Only who may see the configuration (owners of any role, operators) may list them.
    """

    def __init__(self, authorizer: Authorizer, chatbots: ChatbotRepository) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots

    async def __call__(self, query: ListChatbotVersionsQuery) -> tuple[ChatbotVersion, ...]:
        await self._authorizer.require(
            query.principal, Action.CHATBOT_VIEW_CONFIG, Resource.chatbot(query.chatbot_id)
        )
        return (await self._chatbots.list_versions(query.chatbot_id)).versions
