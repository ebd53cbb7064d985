"""SetChatbotActivity: activate or deactivate a chatbot (deactivated: no new conversations)."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots._loading import current_version, load_chatbot
from application.chatbots.ports import ChatbotRepository
from application.chatbots.views import ChatbotDetails
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.audit import AuditLog
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class SetChatbotActivityCommand:
    principal: Principal
    chatbot_id: str
    active: bool


class SetChatbotActivity:
    """Activate or deactivate (``isActive``) a chatbot.

    - PRIMARY_OWNER, CO_OWNER, and operators (who can take a chatbot down) may.
    - A deactivated chatbot starts no new conversations and leaves the public listing; its
      versions and the conversations already bought stay as they are.
    - Audited (``chatbot.activated`` / ``chatbot.deactivated``): operators take bots down.
    """

    def __init__(
        self, authorizer: Authorizer, chatbots: ChatbotRepository, audit: AuditLog, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._audit = audit
        self._uow = uow

    async def __call__(self, command: SetChatbotActivityCommand) -> ChatbotDetails:
        await self._authorizer.require(
            command.principal, Action.CHATBOT_SET_ACTIVE, Resource.chatbot(command.chatbot_id)
        )
        chatbot = await load_chatbot(self._chatbots, command.chatbot_id)
        if chatbot.is_active != command.active:
            chatbot.is_active = command.active
            await self._chatbots.save(chatbot)
            await self._audit.record(
                command.principal,
                "chatbot.activated" if command.active else "chatbot.deactivated",
                subject_type="chatbot",
                subject_id=chatbot.id,
                before={"is_active": not command.active},
                after={"is_active": command.active},
            )
            await self._uow.commit()
        return ChatbotDetails(chatbot=chatbot, current=await current_version(self._chatbots, chatbot))
