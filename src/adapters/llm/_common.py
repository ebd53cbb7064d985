"""Pieces every answer-model adapter shares: turning raw text into port events, and mapping a
vendor's HTTP status or error type to the port's error codes."""

from __future__ import annotations

from collections.abc import Mapping

from application.chat.citations import CitationParser
from application.chat.model_port import (
    AnswerRequest,
    Citation,
    Done,
    ModelErrorCode,
    StopReason,
    TextDelta,
    Usage,
)


class AnswerAssembler:
    """Feeds a vendor's raw text through the citation parser and remembers whether any text
    reached the caller (after that, a failure can no longer be hidden by a fallback)."""

    def __init__(self, request: AnswerRequest) -> None:
        self._parser = CitationParser(request.chunk_ids)
        self.text_emitted = False

    def text(self, raw: str) -> list[TextDelta | Citation]:
        return self._mark(self._parser.feed(raw))

    def finish(self, usage: Usage, stop_reason: StopReason) -> list[TextDelta | Citation | Usage | Done]:
        return [*self._mark(self._parser.finish()), usage, Done(stop_reason)]

    @property
    def dropped_citations(self) -> list[int]:
        return list(self._parser.dropped_numbers)

    def _mark(self, events: list[TextDelta | Citation]) -> list[TextDelta | Citation]:
        if any(isinstance(event, TextDelta) for event in events):
            self.text_emitted = True
        return events


def code_for_status(status: int) -> str:
    if status == 429:
        return ModelErrorCode.RATE_LIMITED
    if status in (401, 403):
        return ModelErrorCode.NOT_AUTHORIZED
    if status in (408, 504):
        return ModelErrorCode.TIMEOUT
    if status >= 500:
        return ModelErrorCode.UNAVAILABLE
    return ModelErrorCode.REJECTED


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The provider's own advice on when to try again (``retry-after-ms`` or ``retry-after``)."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None
