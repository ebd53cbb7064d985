"""GetChatbot: one chatbot by id or slug, as much of it as the caller may see."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots._loading import current_version
from application.chatbots.ports import ChatbotRepository
from application.chatbots.views import ChatbotDetails
from application.errors import NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource


@dataclass(frozen=True, slots=True, kw_only=True)
class GetChatbotQuery:
    principal: Principal
    id_or_slug: str


class GetChatbot:
    """A chatbot and its live version.

    - Anyone sees a public, active chatbot; owners and operators see it always; to everybody
      else it does not exist (404, so ids and slugs cannot be probed).
    - The configuration (prompt, model, caps) is only for owners and operators.
    """

    def __init__(self, authorizer: Authorizer, chatbots: ChatbotRepository) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots

    async def __call__(self, query: GetChatbotQuery) -> ChatbotDetails:
        chatbot = await self._chatbots.get(query.id_or_slug) or await self._chatbots.get_by_slug(
            query.id_or_slug
        )
        if chatbot is None:
            raise NotFound("chatbot not found", extra={"resource": "chatbot"})
        resource = Resource.chatbot(chatbot.id)
        await self._authorizer.require(query.principal, Action.CHATBOT_VIEW, resource)
        can_view_config = await self._authorizer.allows(query.principal, Action.CHATBOT_VIEW_CONFIG, resource)
        return ChatbotDetails(
            chatbot=chatbot,
            current=await current_version(self._chatbots, chatbot),
            can_view_config=can_view_config,
        )
