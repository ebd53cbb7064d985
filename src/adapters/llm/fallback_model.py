"""A primary answer model with a fallback for when it fails before saying anything.

A deployment uses it to keep answering when the LLM provider is down or throttling: the visitor
gets the extractive answer instead of an error. Once the primary has streamed text the visitor
has seen part of an answer, and splicing a second model's answer after it would read as
nonsense, so a later failure is raised as it is.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from application.chat.model_port import AnswerEvent, AnswerModel, AnswerRequest, TextDelta
from application.errors import ExternalServiceError, ServiceUnavailable

log = logging.getLogger(__name__)

ApplicationFailure = ExternalServiceError | ServiceUnavailable


class FallbackAnswerModel:
    """`on_fallback` is told every error that made it switch (for metrics); the `Usage` event
    names whichever model answered, so the answer is priced at that model's rate."""

    def __init__(
        self,
        primary: AnswerModel,
        fallback: AnswerModel,
        *,
        on_fallback: Callable[[ApplicationFailure], None] | None = None,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._on_fallback = on_fallback

    async def stream(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        text_started = False
        primary = self._primary.stream(request)
        try:
            async for event in primary:
                if isinstance(event, TextDelta) and event.text:
                    text_started = True
                yield event
            return
        except (ExternalServiceError, ServiceUnavailable) as exc:
            if text_started:
                raise
            log.warning("answer model failed before any text (%s); using the fallback", exc.code)
            if self._on_fallback is not None:
                self._on_fallback(exc)
        finally:
            await _close(primary)
        async for event in self._fallback.stream(request):
            yield event


async def _close(iterator: AsyncIterator[AnswerEvent]) -> None:
    # Async generators hold a provider connection until closed; plain iterators have nothing to release.
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
