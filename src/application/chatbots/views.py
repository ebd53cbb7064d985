"""What the chatbot use cases return: domain objects plus what the caller may see of them."""

from __future__ import annotations

from dataclasses import dataclass

from domain.chatbots import Chatbot, ChatbotVersion


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatbotDetails:
    """A chatbot and its live version. ``can_view_config`` says whether the caller may see the
    configuration (system prompt, model, caps); the entrypoints leave it out when not."""

    chatbot: Chatbot
    current: ChatbotVersion | None
    can_view_config: bool = True
