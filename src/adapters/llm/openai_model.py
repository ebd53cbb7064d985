"""Answers from OpenAI's Chat Completions API, streamed through the official SDK's `AsyncOpenAI`.

Why Chat Completions rather than the Responses API: both stream well in the installed SDK, but
Chat Completions is the wire format every OpenAI-compatible server speaks (Azure OpenAI, vLLM,
Ollama, LiteLLM and OpenRouter gateways), so `base_url` can point this one adapter at any of
them; the chat needs nothing Responses adds (server-side state, built-in tools).

The request asks for ``stream_options={"include_usage": True}``: the server then sends one last
chunk with empty ``choices`` and the token usage before ``data: [DONE]``. A compatible server
that ignores the option gets its usage estimated with the project's tokenizer rather than
recorded as free.

Retries: the SDK retries 408/409/429/5xx and connection failures with exponential backoff,
honouring ``retry-after-ms``/``retry-after``, up to `max_retries` times, all before the first
chunk. `temperature` is sent only when the request sets it: the GPT-5 reasoning models accept
only their default, so a chatbot using them must leave it unset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import openai
from openai import AsyncOpenAI, omit
from openai.types.chat import ChatCompletionMessageParam

from adapters.llm._common import AnswerAssembler, code_for_status, retry_after_seconds
from application.chat.citations import compose_prompt
from application.chat.model_port import (
    AnswerEvent,
    AnswerRequest,
    ModelErrorCode,
    StopReason,
    Usage,
    model_error,
)
from application.errors import ExternalServiceError, ServiceUnavailable
from domain.text.tokens import count_tokens

PROVIDER = "openai"

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high"]

_STOP_REASONS = {
    "stop": StopReason.COMPLETE,
    "length": StopReason.MAX_TOKENS,
    "content_filter": StopReason.REFUSED,
}

# `type`/`code` of an error object sent inside a stream (no HTTP status to go by).
_STREAM_ERRORS = {
    "rate_limit_exceeded": ModelErrorCode.RATE_LIMITED,
    "requests": ModelErrorCode.RATE_LIMITED,
    "tokens": ModelErrorCode.RATE_LIMITED,
    "server_error": ModelErrorCode.UNAVAILABLE,
    "invalid_request_error": ModelErrorCode.REJECTED,
}


class OpenAIAnswerModel:
    """GPT models (or any OpenAI-compatible server at `base_url`). `timeout_seconds` bounds
    each read: the wait for the first byte and the longest silence between two chunks.
    `reasoning_effort` is passed to reasoning models when set (lower means a faster first token)."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "gpt-5-mini",
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        connect_timeout_seconds: float = 5.0,
        max_retries: int = 2,
        reasoning_effort: ReasoningEffort | None = None,
        provider_name: str = PROVIDER,
    ) -> None:
        if not api_key:
            raise ServiceUnavailable("The OpenAI answer model needs an API key.", code="llm-not-configured")
        if timeout_seconds <= 0 or connect_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self._model = model
        self._reasoning_effort = reasoning_effort
        # A compatible server bills under its own name (pricing looks up provider + model).
        self._provider = provider_name
        self._client = AsyncOpenAI(
            api_key=api_key,
            base_url=base_url or None,
            max_retries=max_retries,
            timeout=openai.Timeout(timeout_seconds, connect=connect_timeout_seconds),
        )

    @property
    def provider(self) -> str:
        return self._provider

    @property
    def default_model(self) -> str:
        return self._model

    async def close(self) -> None:
        await self._client.close()

    async def stream(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        prompt = compose_prompt(request)
        messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": prompt.system}]
        for turn in prompt.messages:
            if turn.role == "user":
                messages.append({"role": "user", "content": turn.content})
            else:
                messages.append({"role": "assistant", "content": turn.content})
        requested_model = request.model or self._model
        assembler = AnswerAssembler(request)
        reported_model = requested_model
        output_text: list[str] = []
        usage: tuple[int, int] | None = None
        finish_reason: str | None = None
        try:
            chunks = await self._client.chat.completions.create(
                model=requested_model,
                messages=messages,
                max_completion_tokens=request.max_output_tokens,
                stream=True,
                stream_options={"include_usage": True},
                temperature=request.temperature if request.temperature is not None else omit,
                reasoning_effort=self._reasoning_effort if self._reasoning_effort is not None else omit,
            )
            async with chunks:
                async for chunk in chunks:
                    reported_model = chunk.model or reported_model
                    if chunk.usage is not None:
                        usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices[:1]:  # n=1: there is only ever choice 0
                        piece = choice.delta.content or choice.delta.refusal
                        if piece:
                            output_text.append(piece)
                            for answer_event in assembler.text(piece):
                                yield answer_event
                        if choice.delta.refusal:
                            finish_reason = "content_filter"
                        if choice.finish_reason is not None and finish_reason != "content_filter":
                            finish_reason = choice.finish_reason
        except openai.APIStatusError as exc:
            raise self._status_error(exc, after_text=assembler.text_emitted) from exc
        except openai.APITimeoutError as exc:
            raise self._error(ModelErrorCode.TIMEOUT, "OpenAI did not answer in time.", assembler) from exc
        except openai.APIConnectionError as exc:
            raise self._error(ModelErrorCode.UNAVAILABLE, f"Cannot reach OpenAI: {exc}", assembler) from exc
        except openai.APIResponseValidationError as exc:
            raise self._error(
                ModelErrorCode.BAD_RESPONSE, f"OpenAI sent a malformed chunk: {exc}", assembler
            ) from exc
        except openai.APIError as exc:
            # An error object inside the stream: the SDK raises it without an HTTP status.
            marker = exc.code or exc.type or ""
            code = _STREAM_ERRORS.get(marker, ModelErrorCode.UNAVAILABLE)
            raise self._error(code, f"OpenAI failed mid-stream ({marker}): {exc.message}", assembler) from exc
        if finish_reason is None:
            raise self._error(
                ModelErrorCode.BAD_RESPONSE, "OpenAI's stream ended without a finish reason.", assembler
            )
        if usage is None:
            usage = (_estimate_input(prompt.system, messages), count_tokens("".join(output_text)))
        usage_event = Usage(
            provider=self._provider, model=reported_model, input_tokens=usage[0], output_tokens=usage[1]
        )
        for final_event in assembler.finish(usage_event, _STOP_REASONS.get(finish_reason, StopReason.OTHER)):
            yield final_event

    def _error(self, code: str, message: str, assembler: AnswerAssembler) -> ExternalServiceError:
        return model_error(
            code, message, provider=self._provider, extra={"after_text": assembler.text_emitted}
        )

    def _status_error(self, exc: openai.APIStatusError, *, after_text: bool) -> ExternalServiceError:
        code = code_for_status(exc.status_code)
        extra: dict[str, object] = {"status": exc.status_code, "after_text": after_text}
        if exc.code:
            extra["vendor_error"] = exc.code
        if exc.request_id:
            extra["request_id"] = exc.request_id
        retry_after = retry_after_seconds(exc.response.headers)
        if code == ModelErrorCode.RATE_LIMITED and retry_after is not None:
            extra["retry_after_seconds"] = retry_after
        return model_error(
            code,
            f"OpenAI failed ({exc.status_code}, {exc.code}): {exc.message}",
            provider=self._provider,
            extra=extra,
        )


def _estimate_input(system: str, messages: list[ChatCompletionMessageParam]) -> int:
    contents = [message.get("content") for message in messages[1:]]
    return count_tokens(system) + sum(
        count_tokens(content) for content in contents if isinstance(content, str)
    )
