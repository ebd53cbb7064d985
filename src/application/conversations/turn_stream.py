"""The second half of a chat turn: stream the model's answer, then record it in one transaction,
or give the reserved message back if the answer failed or the client went away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from application.chat.model_port import (
    AnswerModel,
    AnswerRequest,
    Citation,
    Done,
    StopReason,
    TextDelta,
    Usage,
)
from application.chat.pricing import ModelPricing
from application.conversations import turn_building as build
from application.conversations.chat_ports import (
    AiCall,
    AttachedFile,
    ChatLog,
    ContextEntry,
    NewMessage,
    SourceOwners,
    SourceUsage,
)
from application.conversations.ports import ConversationRepository
from application.conversations.turn_events import CitationEvent, DoneEvent, ErrorEvent, TokenEvent, TurnEvent
from application.errors import ApplicationError, NotFound
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from application.retrieval.ports import SearchHit
from domain.conversations import Conversation
from domain.ids import new_id
from domain.text.tokens import count_tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedTurn:
    """Everything decided before the model is called (the message is already reserved)."""

    conversation: Conversation
    reserved_used: int
    question: str
    sender_user_id: str | None
    daily_subject: str
    request: AnswerRequest
    hits: Sequence[SearchHit]
    owners: Mapping[str, SourceOwners]
    user_context: Sequence[ContextEntry]
    files: Sequence[AttachedFile]
    top_k: int
    source_count: int


@dataclass(slots=True)
class _Answer:
    text: str = ""
    usage: Usage | None = None
    stop: StopReason = StopReason.OTHER


class TurnRecorder:
    """Streams one prepared turn. Iterate `events()` exactly once."""

    def __init__(
        self,
        turn: PreparedTurn,
        *,
        model: AnswerModel,
        conversations: ConversationRepository,
        log_: ChatLog,
        pricing: ModelPricing,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        self._turn = turn
        self._model = model
        self._conversations = conversations
        self._log = log_
        self._pricing = pricing
        self._clock = clock
        self._uow = uow
        self._settled = False
        self._iterator: AsyncIterator[TurnEvent] | None = None

    def events(self) -> AsyncIterator[TurnEvent]:
        """The turn's events; one iteration only."""
        if self._iterator is not None:
            raise RuntimeError("a turn's events can be iterated once")
        self._iterator = self._events()
        return self._iterator

    async def close(self) -> None:
        """Settles a turn whose events were never consumed to the end (the client left before
        the stream started, or a handler failed in between): the reservation is given back.
        Called when the request ends; harmless after a completed turn."""
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is not None:
            await aclose()
        await self._release()

    async def _events(self) -> AsyncIterator[TurnEvent]:
        turn = self._turn
        by_id = {hit.chunk_id: hit for hit in turn.hits}
        answer = _Answer()
        parts: list[str] = []
        citations: list[Citation] = []
        stream = self._model.stream(turn.request)
        try:
            async for event in stream:
                if isinstance(event, TextDelta):
                    if event.text:
                        parts.append(event.text)
                        yield TokenEvent(text=event.text)
                elif isinstance(event, Citation):
                    citations.append(event)
                    hit = by_id[event.chunk_id]
                    yield CitationEvent(
                        chunk_id=hit.chunk_id,
                        source_id=hit.source_id,
                        page=hit.page,
                        timestamp=hit.start_seconds,
                        quote=event.quote,
                    )
                elif isinstance(event, Usage):
                    answer.usage = event
                elif isinstance(event, Done):
                    answer.stop = event.stop_reason
            answer.text = "".join(parts)
            done = await self._record(answer, citations)
            yield done
        except ApplicationError as exc:
            log.warning("chat turn failed (%s): %s", exc.code, exc.message)
            await self._release()
            yield ErrorEvent(code=exc.code, message=exc.message)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
            if not self._settled:
                # Cancelled (the client went away) or an unexpected error: nothing was recorded,
                # so the reserved message goes back. Shielded: a second cancellation must not
                # leave the reservation behind.
                await asyncio.shield(self._release())

    async def _record(self, answer: _Answer, citations: Sequence[Citation]) -> DoneEvent:
        turn = self._turn
        now = self._clock.now()
        usage = answer.usage or Usage(
            provider="unknown",
            model=turn.request.model or "unknown",
            input_tokens=0,
            output_tokens=count_tokens(answer.text),
        )
        user_message = NewMessage(
            id=new_id(),
            role="USER",
            content=turn.question,
            token_count=count_tokens(turn.question),
            sender_user_id=turn.sender_user_id,
            created_at=now,
        )
        attribution = build.attribution(turn.hits, turn.owners, citations, usage.model)
        ai_message = NewMessage(
            id=new_id(),
            role="AI",
            content=answer.text,
            token_count=usage.output_tokens,
            attribution=attribution,
            context=build.generation_context(
                turn.hits, turn.user_context, turn.files, top_k=turn.top_k, source_count=turn.source_count
            ),
            created_at=now,
        )
        conversation_id = turn.conversation.id
        await self._log.add_messages(conversation_id, [user_message, ai_message])
        usages = [
            SourceUsage(source_id=s.source_id, tokens=s.tokens) for s in build.tokens_by_source(turn.hits)
        ]
        if usages:
            await self._log.record_source_usage(conversation_id, usages, at=now)
        await self._conversations.add_tokens(
            conversation_id, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens
        )
        await self._log.record_ai_call(
            AiCall(
                message_id=ai_message.id,
                conversation_id=conversation_id,
                purpose="answer",
                provider=usage.provider,
                model=usage.model,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_micros=self._cost(usage),
            )
        )
        await self._log.add_daily_tokens(
            turn.daily_subject,
            _day(now),
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
        )
        await self._uow.commit()
        self._settled = True
        used = turn.reserved_used
        allowance = turn.conversation.allowance.allowance
        return DoneEvent(
            conversation_id=conversation_id,
            user_message_id=user_message.id,
            message_id=ai_message.id,
            content=answer.text,
            attribution=attribution,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            messages_used=used,
            messages_remaining=allowance - used,
            status="COMPLETED" if used >= allowance else "ACTIVE",
            stop_reason=answer.stop.value,
        )

    def _cost(self, usage: Usage) -> int:
        try:
            return self._pricing.cost(usage)
        except NotFound:
            # The answer was given and must be recorded; an unpriced model is a configuration
            # error reported loudly, not a reason to lose the visitor's answer.
            log.error("no price for %s/%s: cost recorded as 0", usage.provider, usage.model)
            return 0

    async def _release(self) -> None:
        if self._settled:
            return
        self._settled = True
        try:
            await self._uow.rollback()
            await self._log.release_message(
                self._turn.conversation.id, reserved_used=self._turn.reserved_used
            )
            await self._uow.commit()
        except Exception:
            log.exception("could not release the reserved message of %s", self._turn.conversation.id)


def _day(moment: datetime) -> date:
    return moment.date()
