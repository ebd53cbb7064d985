"""SetChatbotVisibility: publish a chatbot to the public listing, or take it off."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots._loading import current_version, load_chatbot
from application.chatbots.ports import ChatbotRepository
from application.chatbots.views import ChatbotDetails
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class SetChatbotVisibilityCommand:
    principal: Principal
    chatbot_id: str
    public: bool


class SetChatbotVisibility:
    """Publish (``isPublic`` true) or unpublish a chatbot.

    - PRIMARY_OWNER and CO_OWNER decide visibility.
    - Only a chatbot with a live version can be public (``no-live-version``).
    - Visibility is not configuration: it creates no version. Running conversations continue.
    - Setting the visibility it already has is accepted and changes nothing.
    """

    def __init__(self, authorizer: Authorizer, chatbots: ChatbotRepository, uow: UnitOfWork) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._uow = uow

    async def __call__(self, command: SetChatbotVisibilityCommand) -> ChatbotDetails:
        await self._authorizer.require(
            command.principal, Action.CHATBOT_PUBLISH, Resource.chatbot(command.chatbot_id)
        )
        chatbot = await load_chatbot(self._chatbots, command.chatbot_id)
        if chatbot.is_public != command.public:
            if command.public:
                chatbot.make_public()
            else:
                chatbot.make_private()
            await self._chatbots.save(chatbot)
            await self._uow.commit()
        return ChatbotDetails(chatbot=chatbot, current=await current_version(self._chatbots, chatbot))
