"""What a chat turn streams to the client: ``token``, ``citation``, then ``done`` or ``error``
(the server-sent event names are the ``event`` fields)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenEvent:
    event: ClassVar[str] = "token"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CitationEvent:
    event: ClassVar[str] = "citation"
    chunk_id: str
    source_id: str
    page: int | None = None
    timestamp: float | None = None
    quote: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DoneEvent:
    event: ClassVar[str] = "done"
    conversation_id: str
    user_message_id: str
    message_id: str
    content: str
    attribution: dict[str, Any]
    input_tokens: int
    output_tokens: int
    messages_used: int
    messages_remaining: int
    status: str
    stop_reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent:
    event: ClassVar[str] = "error"
    code: str
    message: str


TurnEvent = TokenEvent | CitationEvent | DoneEvent | ErrorEvent
