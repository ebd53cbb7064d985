"""The chat area's ``OpenConversation`` as the money area's ``ConversationOpener``: a paid
purchase opens its conversation exactly as the buyer opening it would (same checks, same
idempotency: opening again from the same purchase returns the same conversation)."""

from __future__ import annotations

from application.conversations.open_conversation import OpenConversation, OpenConversationCommand
from application.identity.principal import Principal


class OpenPurchasedConversation:
    def __init__(self, open_conversation: OpenConversation) -> None:
        self._open = open_conversation

    async def open_for_purchase(self, *, purchase_id: str, user_id: str, chatbot_id: str) -> str:
        opened = await self._open(
            OpenConversationCommand(
                principal=Principal.user(user_id), chatbot_id=chatbot_id, purchase_id=purchase_id
            )
        )
        return opened.conversation.id
