"""Loading helpers shared by the chatbot use cases (not a use case itself)."""

from __future__ import annotations

from application.chatbots.ports import ChatbotRepository
from application.errors import NotFound
from domain.chatbots import Chatbot, ChatbotVersion


async def load_chatbot(chatbots: ChatbotRepository, chatbot_id: str) -> Chatbot:
    chatbot = await chatbots.get(chatbot_id)
    if chatbot is None:
        raise NotFound("chatbot not found", extra={"resource": "chatbot", "id": chatbot_id})
    return chatbot


async def current_version(chatbots: ChatbotRepository, chatbot: Chatbot) -> ChatbotVersion | None:
    if chatbot.current_version_id is None:
        return None
    return await chatbots.get_version(chatbot.current_version_id)
