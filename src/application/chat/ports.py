"""Ports of the chat area.

Each port is declared in its own module and re-exported here, so use cases import every chat
port from one place (``from application.chat.ports import AnswerModel``).
"""

from __future__ import annotations

# --- Answer model (the LLM port; declared in application.chat.model_port) ----------------------
from application.chat.model_port import (
    AnswerEvent,
    AnswerModel,
    AnswerRequest,
    ChatTurn,
    Citation,
    ContextChunk,
    Done,
    ModelErrorCode,
    StopReason,
    TextDelta,
    Usage,
)

__all__ = [
    "AnswerEvent",
    "AnswerModel",
    "AnswerRequest",
    "ChatTurn",
    "Citation",
    "ContextChunk",
    "Done",
    "ModelErrorCode",
    "StopReason",
    "TextDelta",
    "Usage",
]
# --- end of the answer model block; other chat ports follow below ------------------------------
