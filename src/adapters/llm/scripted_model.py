"""A scripted answer model for tests of the chat and for offline demos.

It streams the raw deltas it was given through the same citation parser the real adapters use
(so ``[1]`` markers become citations of the request's first chunk), counts tokens with the
project's tokenizer, stops at ``max_output_tokens`` like a provider would, and can fail at a
chosen step with a chosen error. Every request it receives is kept in `requests`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence

from adapters.llm._common import AnswerAssembler
from application.chat.model_port import (
    AnswerEvent,
    AnswerRequest,
    ModelErrorCode,
    StopReason,
    Usage,
    model_error,
)
from domain.text.tokens import count_tokens

PROVIDER = "scripted"
MODEL = "scripted"

DEFAULT_SCRIPT = (
    "The sources ",
    "say that a remarkable product ",
    "gets talked about [",
    "1]. Marketing ",
    "is the product itself [2, 9].",
)


class ScriptedAnswerModel:
    """`fail_at=n` raises `error` instead of sending delta ``n`` (``n == len(deltas)`` fails
    after all the text, before `Usage`); the default error is ``llm-unavailable``."""

    def __init__(
        self,
        deltas: Sequence[str] = DEFAULT_SCRIPT,
        *,
        fail_at: int | None = None,
        error: Exception | None = None,
        provider: str = PROVIDER,
        model: str = MODEL,
    ) -> None:
        if fail_at is not None and not 0 <= fail_at <= len(deltas):
            raise ValueError("fail_at must index a delta, or equal len(deltas)")
        self._deltas = tuple(deltas)
        self._fail_at = fail_at
        self._error = error
        self._provider = provider
        self._model = model
        self.requests: list[AnswerRequest] = []

    @classmethod
    def replying(cls, text: str, **options: object) -> ScriptedAnswerModel:
        """Streams `text` a word at a time."""
        return cls(re.findall(r"\s*\S+\s*", text) or [text], **options)  # type: ignore[arg-type]

    @property
    def provider(self) -> str:
        return self._provider

    @property
    def default_model(self) -> str:
        return self._model

    async def stream(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        self.requests.append(request)
        assembler = AnswerAssembler(request)
        raw = ""
        stop = StopReason.COMPLETE
        for index, delta in enumerate(self._deltas):
            if index == self._fail_at:
                raise self._failure(assembler)
            if count_tokens(raw + delta) > request.max_output_tokens:
                stop = StopReason.MAX_TOKENS
                break
            raw += delta
            for event in assembler.text(delta):
                yield event
        else:
            if self._fail_at == len(self._deltas):
                raise self._failure(assembler)
        usage = Usage(
            provider=self._provider,
            model=request.model or self._model,
            input_tokens=sum(count_tokens(turn.content) for turn in request.messages)
            + count_tokens(request.system_prompt),
            output_tokens=count_tokens(raw),
        )
        for final_event in assembler.finish(usage, stop):
            yield final_event

    def _failure(self, assembler: AnswerAssembler) -> Exception:
        if self._error is not None:
            return self._error
        return model_error(
            ModelErrorCode.UNAVAILABLE,
            "The scripted model failed as instructed.",
            provider=self._provider,
            extra={"after_text": assembler.text_emitted},
        )
