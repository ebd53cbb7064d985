"""The citation convention between the platform and a language model, both directions.

Sources are shown to the model numbered from 1, in relevance order (``[1]`` is
``request.context[0]``); the model cites by writing the number in square brackets right after
the sentence it supports: ``[2]``, or ``[1, 3]`` / ``[1][3]`` for several.

Why numbers rather than chunk ids: ids are 36-character UUIDs that models copy unreliably and
that cost tokens on every citation; a small number is what models already write when citing.

`CitationParser` turns the raw token stream into clean `TextDelta`s and `Citation` events:

- A marker is ``[`` + 1-3 digit numbers separated by commas + ``]`` (spaces allowed inside).
  It is removed from the text, together with the spaces or tabs just before it ("a fact [1]."
  reads "a fact."). ``[2024]`` (four digits) or ``[see 1]`` are ordinary text.
- Each number that names a given source becomes one `Citation` (a repeated number within one
  marker counts once); a number with no such source is dropped: a model never gets to cite a
  chunk it was not given.
- Markers split across deltas are recognised: any split of the same stream gives the same text
  and the same citations in the same places (property-tested). Only a possible marker prefix
  (trailing spaces, ``[1,``...) is held back, so text still streams as it arrives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from application.chat.model_port import AnswerRequest, ChatTurn, Citation, ContextChunk, TextDelta

_MARKER = re.compile(r"[ \t]*\[[ \t]*(\d{1,3}(?:[ \t]*,[ \t]*\d{1,3})*)[ \t]*\]")
# What may follow a "[" while the marker is still incomplete.
_OPEN_BODY = re.compile(r"[ \t]*(?:\d{1,3}[ \t]*,[ \t]*)*\d{0,3}[ \t]*")
_TRAILING_BLANKS = re.compile(r"[ \t]*\Z")


class CitationParser:
    """Streaming parser for one answer; feed raw deltas, then call `finish()` once."""

    def __init__(self, chunk_ids: Sequence[str]) -> None:
        self._chunk_ids = tuple(chunk_ids)
        self._pending = ""
        self.dropped_numbers: list[int] = []
        """Source numbers the model cited that name no given chunk (for logs and tests)."""

    def feed(self, raw: str) -> list[TextDelta | Citation]:
        self._pending += raw
        return self._drain(final=False)

    def finish(self) -> list[TextDelta | Citation]:
        """Flushes what was held back; an unfinished marker at the very end is kept as text."""
        return self._drain(final=True)

    def _drain(self, *, final: bool) -> list[TextDelta | Citation]:
        events: list[TextDelta | Citation] = []
        pending = self._pending
        position = 0
        for match in _MARKER.finditer(pending):
            if match.start() > position:
                events.append(TextDelta(pending[position : match.start()]))
            events.extend(self._citations(match.group(1)))
            position = match.end()
        rest = pending[position:]
        keep = len(rest) if final else _held_back_from(rest)
        if keep > 0:
            events.append(TextDelta(rest[:keep]))
        self._pending = rest[keep:]
        return events

    def _citations(self, numbers: str) -> list[TextDelta | Citation]:
        cited: list[TextDelta | Citation] = []
        seen: set[int] = set()
        for part in numbers.split(","):
            number = int(part.strip())
            if number in seen:
                continue
            seen.add(number)
            if 1 <= number <= len(self._chunk_ids):
                cited.append(Citation(self._chunk_ids[number - 1]))
            else:
                self.dropped_numbers.append(number)
        return cited


def _held_back_from(rest: str) -> int:
    """Where the suffix that could still become a marker starts (``len(rest)`` if none).

    Such a suffix is blanks, optionally followed by ``[`` and an open marker body; so only the
    last ``[`` can start it, and without a viable ``[`` only trailing blanks are held back.
    """
    bracket = rest.rfind("[")
    if bracket >= 0 and _OPEN_BODY.fullmatch(rest, bracket + 1):
        start = bracket
        while start > 0 and rest[start - 1] in " \t":
            start -= 1
        return start
    trailing = _TRAILING_BLANKS.search(rest)
    assert trailing is not None  # the pattern matches the empty string at the end
    return trailing.start()


def parse_citations(raw: str, chunk_ids: Sequence[str]) -> list[TextDelta | Citation]:
    """The whole-text form of `CitationParser`, for stored answers and tests."""
    parser = CitationParser(chunk_ids)
    return [*parser.feed(raw), *parser.finish()]


def merge_text(events: Sequence[TextDelta | Citation]) -> list[TextDelta | Citation]:
    """Joins adjacent text deltas: two streams mean the same answer if their merged forms match."""
    merged: list[TextDelta | Citation] = []
    for event in events:
        if isinstance(event, TextDelta) and merged and isinstance(merged[-1], TextDelta):
            merged[-1] = TextDelta(merged[-1].text + event.text)
        elif not isinstance(event, TextDelta) or event.text:
            merged.append(event)
    return merged


# --- telling the model about the convention -----------------------------------------------------

CITATION_INSTRUCTIONS = (
    "Answer only from the numbered sources given with the question. After each sentence that "
    "uses a source, cite it by its number in square brackets, like [1], or [1, 3] for several. "
    "Cite only the numbers you were given and never invent a source. If the sources do not "
    "answer the question, say so plainly instead of guessing."
)

ADVISOR_BOARD_INSTRUCTIONS = (
    "You speak for an advisory board of several experts. Give each relevant expert's view in its "
    "own paragraph that starts with the expert's name and a colon (for example 'Jane Doe: ...'), "
    "using only the sources attributed to that expert."
)


def describe_chunk(chunk: ContextChunk) -> str:
    """A one-line label of where a passage comes from: title, author, page, section, time."""
    parts: list[str] = []
    if chunk.source_title:
        parts.append(f"“{chunk.source_title}”")
    if chunk.creator_name:
        parts.append(f"by {chunk.creator_name}")
    if chunk.chapter:
        parts.append(chunk.chapter)
    if chunk.section:
        parts.append(f"section “{chunk.section}”")
    if chunk.page is not None:
        parts.append(f"p. {chunk.page}")
    if chunk.start_seconds is not None:
        parts.append(f"at {format_timestamp(chunk.start_seconds)}")
    return ", ".join(parts)


def format_timestamp(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_sources(context: Sequence[ContextChunk]) -> str:
    """The numbered source list the model sees; numbering is the citation key."""
    if not context:
        return "Sources: none were found for this question."
    blocks = ["Sources:"]
    for number, chunk in enumerate(context, start=1):
        label = describe_chunk(chunk)
        blocks.append(
            f"[{number}] {label}\n{chunk.text.strip()}" if label else f"[{number}]\n{chunk.text.strip()}"
        )
    return "\n\n".join(blocks)


@dataclass(frozen=True, slots=True, kw_only=True)
class ComposedPrompt:
    system: str
    messages: tuple[ChatTurn, ...]


def compose_prompt(request: AnswerRequest) -> ComposedPrompt:
    """The system text and turns every LLM adapter sends.

    The chatbot's system prompt and the convention form the system text, which stays the same
    across a conversation (so a provider's prompt cache can reuse it); the numbered sources go
    into the last user turn, because they change with every question.
    """
    system_parts = [request.system_prompt.strip(), CITATION_INSTRUCTIONS]
    if request.advisor_board:
        system_parts.append(ADVISOR_BOARD_INSTRUCTIONS)
    system = "\n\n".join(part for part in system_parts if part)
    last = request.messages[-1]
    question = ChatTurn(role="user", content=f"{render_sources(request.context)}\n\nQuestion: {last.content}")
    return ComposedPrompt(system=system, messages=(*request.messages[:-1], question))
