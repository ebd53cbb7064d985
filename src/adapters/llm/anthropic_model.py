"""Answers from Anthropic's Messages API, streamed through the official SDK's `AsyncAnthropic`.

The request is sent with ``stream=True`` and the raw server-sent events are read directly:
``message_start`` (the model id and input tokens), ``content_block_delta`` with ``text_delta``
(the answer), ``message_delta`` (stop reason and cumulative output tokens) and
``message_stop``; ``ping`` is skipped by the SDK and an ``error`` event is raised by it. The raw
events are enough here (the SDK's `messages.stream()` helper would also accumulate the whole
message, which the chat does not need).

Retries: the SDK retries 408/409/429/5xx (overloaded 529 included) and connection failures
with exponential backoff, honouring ``retry-after``, up to `max_retries` times; all of that
happens before the first event, so a retried request never duplicates streamed text. An error
event in the middle of a stream is not retried (text was already shown).

`temperature` is never sent: the installed SDK has no such parameter, and the API rejects it
for Opus 4.7 and later models; the models' default sampling is used.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anthropic
import httpx2
from anthropic import AsyncAnthropic
from anthropic.types import (
    AssistantMessageParam,
    MessageParam,
    RawContentBlockDeltaEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    UserMessageParam,
)
from anthropic.types import TextDelta as AnthropicTextDelta

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

PROVIDER = "anthropic"

_STOP_REASONS = {
    "end_turn": StopReason.COMPLETE,
    "stop_sequence": StopReason.COMPLETE,
    "max_tokens": StopReason.MAX_TOKENS,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
    "refusal": StopReason.REFUSED,
}

# Error types of Anthropic's error body (HTTP errors and in-stream `error` events).
_ERROR_TYPES = {
    "rate_limit_error": ModelErrorCode.RATE_LIMITED,
    "overloaded_error": ModelErrorCode.UNAVAILABLE,
    "api_error": ModelErrorCode.UNAVAILABLE,
    "timeout_error": ModelErrorCode.TIMEOUT,
    "authentication_error": ModelErrorCode.NOT_AUTHORIZED,
    "permission_error": ModelErrorCode.NOT_AUTHORIZED,
    "billing_error": ModelErrorCode.NOT_AUTHORIZED,
    "invalid_request_error": ModelErrorCode.REJECTED,
    "not_found_error": ModelErrorCode.REJECTED,
    "request_too_large": ModelErrorCode.REJECTED,
}


class AnthropicAnswerModel:
    """Claude through the Messages API. `base_url` points the SDK at a compatible server (a
    gateway, or a local test double); `timeout_seconds` bounds each read, so it is both the
    wait for the first byte and the longest silence allowed between two events."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "claude-sonnet-4-6",
        base_url: str | None = None,
        timeout_seconds: float = 60.0,
        connect_timeout_seconds: float = 5.0,
        max_retries: int = 2,
    ) -> None:
        if not api_key:
            raise ServiceUnavailable(
                "The Anthropic answer model needs an API key.", code="llm-not-configured"
            )
        if timeout_seconds <= 0 or connect_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self._model = model
        self._client = AsyncAnthropic(
            api_key=api_key,
            base_url=base_url or None,
            max_retries=max_retries,
            timeout=anthropic.Timeout(timeout_seconds, connect=connect_timeout_seconds),
        )

    @property
    def provider(self) -> str:
        return PROVIDER

    @property
    def default_model(self) -> str:
        return self._model

    async def close(self) -> None:
        await self._client.close()

    async def stream(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        prompt = compose_prompt(request)
        messages: list[MessageParam] = []
        for turn in prompt.messages:
            if turn.role == "user":
                messages.append(UserMessageParam(role="user", content=turn.content))
            else:
                messages.append(AssistantMessageParam(role="assistant", content=turn.content))
        requested_model = request.model or self._model
        assembler = AnswerAssembler(request)
        reported_model = requested_model
        input_tokens = 0
        output_tokens = 0
        vendor_stop: str | None = None
        finished = False
        try:
            events = await self._client.messages.create(
                model=requested_model,
                max_tokens=request.max_output_tokens,
                system=prompt.system,
                messages=messages,
                stream=True,
            )
            async with events:
                async for event in events:
                    if isinstance(event, RawMessageStartEvent):
                        reported_model = event.message.model or requested_model
                        usage = event.message.usage
                        input_tokens = (
                            usage.input_tokens
                            + (usage.cache_creation_input_tokens or 0)
                            + (usage.cache_read_input_tokens or 0)
                        )
                        output_tokens = usage.output_tokens
                    elif isinstance(event, RawContentBlockDeltaEvent):
                        if isinstance(event.delta, AnthropicTextDelta) and event.delta.text:
                            for answer_event in assembler.text(event.delta.text):
                                yield answer_event
                    elif isinstance(event, RawMessageDeltaEvent):
                        vendor_stop = event.delta.stop_reason or vendor_stop
                        output_tokens = event.usage.output_tokens
                        if event.usage.input_tokens is not None:
                            input_tokens = (
                                event.usage.input_tokens
                                + (event.usage.cache_creation_input_tokens or 0)
                                + (event.usage.cache_read_input_tokens or 0)
                            )
                    elif isinstance(event, RawMessageStopEvent):
                        finished = True
        except anthropic.APIStatusError as exc:
            raise _status_error(exc, after_text=assembler.text_emitted) from exc
        except anthropic.APITimeoutError as exc:
            raise _error(ModelErrorCode.TIMEOUT, "Anthropic did not answer in time.", assembler) from exc
        except anthropic.APIConnectionError as exc:
            raise _error(ModelErrorCode.UNAVAILABLE, f"Cannot reach Anthropic: {exc}", assembler) from exc
        except httpx2.TimeoutException as exc:
            # A read timeout in the middle of a stream reaches us unwrapped by the SDK.
            raise _error(
                ModelErrorCode.TIMEOUT, "Anthropic stopped streaming (read timeout).", assembler
            ) from exc
        except httpx2.TransportError as exc:
            raise _error(ModelErrorCode.UNAVAILABLE, f"Anthropic's stream broke: {exc}", assembler) from exc
        except (anthropic.APIResponseValidationError, json.JSONDecodeError) as exc:
            raise _error(
                ModelErrorCode.BAD_RESPONSE, f"Anthropic sent a malformed stream: {exc}", assembler
            ) from exc
        if not finished:
            raise _error(
                ModelErrorCode.BAD_RESPONSE, "Anthropic's stream ended before message_stop.", assembler
            )
        usage_event = Usage(
            provider=PROVIDER, model=reported_model, input_tokens=input_tokens, output_tokens=output_tokens
        )
        stop = _STOP_REASONS.get(vendor_stop or "", StopReason.OTHER)
        for final_event in assembler.finish(usage_event, stop):
            yield final_event


def _error(code: str, message: str, assembler: AnswerAssembler) -> ExternalServiceError:
    return model_error(code, message, provider=PROVIDER, extra={"after_text": assembler.text_emitted})


def _status_error(exc: anthropic.APIStatusError, *, after_text: bool) -> ExternalServiceError:
    error_type = exc.type if isinstance(exc.type, str) else None
    if exc.status_code == 200:
        # An `error` event inside a 200 stream: only its type says what happened.
        code = _ERROR_TYPES.get(error_type or "", ModelErrorCode.UNAVAILABLE)
    else:
        code = code_for_status(exc.status_code)
    extra: dict[str, object] = {"status": exc.status_code, "after_text": after_text}
    if error_type:
        extra["vendor_error"] = error_type
    if exc.request_id:
        extra["request_id"] = exc.request_id
    retry_after = retry_after_seconds(exc.response.headers)
    if code == ModelErrorCode.RATE_LIMITED and retry_after is not None:
        extra["retry_after_seconds"] = retry_after
    detail = exc.api_message or exc.message
    return model_error(
        code, f"Anthropic failed ({exc.status_code}, {error_type}): {detail}", provider=PROVIDER, extra=extra
    )
