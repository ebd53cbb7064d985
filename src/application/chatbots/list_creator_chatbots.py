"""ListCreatorChatbots: the chatbots one creator owns, as far as the caller may see them."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots._loading import current_version
from application.chatbots.ports import ChatbotRepository
from application.chatbots.views import ChatbotDetails
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource


@dataclass(frozen=True, slots=True, kw_only=True)
class ListCreatorChatbotsQuery:
    principal: Principal
    creator_id: str


class ListCreatorChatbots:
    """A creator's chatbots (any owner role), ordered by slug.

    - Anyone may look at a creator; each chatbot is shown only if the caller may see it (its
      owners and operators always, everybody else once it is public and active), and its
      configuration only to who may see that.
    """

    def __init__(self, authorizer: Authorizer, chatbots: ChatbotRepository) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots

    async def __call__(self, query: ListCreatorChatbotsQuery) -> list[ChatbotDetails]:
        p = query.principal
        await self._authorizer.require(p, Action.CREATOR_VIEW, Resource.creator(query.creator_id))
        out: list[ChatbotDetails] = []
        for chatbot in await self._chatbots.list_for_creator(query.creator_id):
            resource = Resource.chatbot(chatbot.id)
            if not await self._authorizer.allows(p, Action.CHATBOT_VIEW, resource):
                continue
            out.append(
                ChatbotDetails(
                    chatbot=chatbot,
                    current=await current_version(self._chatbots, chatbot),
                    can_view_config=await self._authorizer.allows(p, Action.CHATBOT_VIEW_CONFIG, resource),
                )
            )
        return out
