"""The answer model port: what the chat asks of a language model (or of its offline stand-in).

A chat turn sends an `AnswerRequest` (the chatbot's system prompt, the conversation so far, the
chunks retrieved from the creator's sources) and receives a stream of `AnswerEvent`s:

    (TextDelta | Citation)*  Usage  Done

- `TextDelta` carries clean text, already stripped of citation markers.
- `Citation` follows the text it supports and names a chunk of `request.context` (never any
  other id; a model that invents a source number is ignored, see `application.chat.citations`).
- `Usage` comes exactly once, after the last text, naming the provider and the model that
  answered so the platform's cost can be priced (`application.chat.pricing`).
- `Done` is always the last event; nothing follows it.

A failure raises `ExternalServiceError` with one of the `ModelErrorCode` codes, after the
adapter's own retries. It may happen after some text was streamed: the caller decides whether
to keep the partial answer (`FallbackAnswerModel` only switches models before the first text).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal, Protocol

from application.errors import ExternalServiceError, InvalidInput

MAX_OUTPUT_TOKENS_LIMIT = 128_000
"""Above every current model's output ceiling: a larger value is a configuration mistake."""


class ModelErrorCode:
    """The ``code`` of every `ExternalServiceError` an answer model raises. Never rename one."""

    TIMEOUT: Final = "llm-timeout"  # no answer (or no next token) within the adapter's timeout
    RATE_LIMITED: Final = "llm-rate-limited"  # the provider throttled us (429) after retries
    UNAVAILABLE: Final = "llm-unavailable"  # 5xx, overloaded (529), connection refused or dropped
    REJECTED: Final = "llm-rejected"  # the provider refused the request (400/404/413/422)
    NOT_AUTHORIZED: Final = "llm-not-authorized"  # bad or unauthorised API key (401/403)
    BAD_RESPONSE: Final = "llm-bad-response"  # the stream was malformed or ended early


def model_error(
    code: str, message: str, *, provider: str, extra: Mapping[str, object] | None = None
) -> ExternalServiceError:
    """The error an adapter raises; ``extra`` always names the provider, so logs and problem
    details say which vendor failed."""
    return ExternalServiceError(message, code=code, extra={"provider": provider, **(extra or {})})


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTurn:
    """One message of the conversation so far."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextChunk:
    """A retrieved chunk the answer may quote and cite. Chunks come in relevance order: the
    first is the best match. `creator_name` names the expert on an advisor board (and the
    author elsewhere); `start_seconds` locates a passage of a podcast or video."""

    chunk_id: str
    source_id: str
    text: str
    source_title: str | None = None
    creator_name: str | None = None
    page: int | None = None
    section: str | None = None
    chapter: str | None = None
    start_seconds: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerRequest:
    """Everything a model needs for one answer. `model` overrides the adapter's default model
    (a chatbot version stores its own); `temperature` is sent only where the model accepts it
    (see each adapter). `advisor_board` asks for one voice per expert (ADVISOR_BOARD chatbots)."""

    system_prompt: str
    messages: tuple[ChatTurn, ...]
    context: tuple[ContextChunk, ...] = ()
    max_output_tokens: int = 1024
    temperature: float | None = None
    model: str | None = None
    advisor_board: bool = False

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if not self.messages:
            errors["messages"] = "at least one message is required"
        elif self.messages[-1].role != "user":
            errors["messages"] = "the last message must be the user's question"
        for position, turn in enumerate(self.messages):
            if turn.role not in ("user", "assistant"):
                errors[f"messages[{position}].role"] = "must be 'user' or 'assistant'"
            if not turn.content.strip():
                errors[f"messages[{position}].content"] = "must not be empty"
        seen: set[str] = set()
        for position, chunk in enumerate(self.context):
            if not chunk.chunk_id or not chunk.source_id:
                errors[f"context[{position}]"] = "chunk_id and source_id are required"
            elif chunk.chunk_id in seen:
                errors[f"context[{position}].chunk_id"] = f"duplicate chunk id {chunk.chunk_id!r}"
            seen.add(chunk.chunk_id)
        if not 1 <= self.max_output_tokens <= MAX_OUTPUT_TOKENS_LIMIT:
            errors["max_output_tokens"] = f"must be between 1 and {MAX_OUTPUT_TOKENS_LIMIT}"
        if self.temperature is not None and not 0.0 <= self.temperature <= 2.0:
            errors["temperature"] = "must be between 0 and 2"
        if self.model is not None and not self.model.strip():
            errors["model"] = "must not be blank"
        if errors:
            raise InvalidInput("Invalid answer request.", errors=errors)

    @property
    def question(self) -> str:
        """The user's latest message: the one being answered."""
        return self.messages[-1].content

    @property
    def chunk_ids(self) -> tuple[str, ...]:
        return tuple(chunk.chunk_id for chunk in self.context)


class StopReason(StrEnum):
    """Why an answer ended, in the platform's words (each adapter maps its vendor's)."""

    COMPLETE = "complete"  # the model finished its answer
    MAX_TOKENS = "max_tokens"  # cut at `max_output_tokens`
    REFUSED = "refused"  # the provider's safety system stopped it
    OTHER = "other"  # anything else the vendor reported (kept in logs by the adapter)


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Citation:
    """The text just streamed is supported by `chunk_id`; `quote` is the exact supporting
    passage when the model knows it (the extractive model always does)."""

    chunk_id: str
    quote: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """Tokens the provider billed for this answer (its own count, or the project's tokenizer
    for local models). `model` is the id the provider reported, possibly a dated snapshot."""

    provider: str
    model: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class Done:
    stop_reason: StopReason


AnswerEvent = TextDelta | Citation | Usage | Done


class AnswerModel(Protocol):
    """Streams an answer. Implementations are async generators; a consumer that stops early
    (the visitor closed the tab) closes the generator, which releases the connection."""

    def stream(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]: ...
