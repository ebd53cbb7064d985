"""The chat turn on SQLite and PostgreSQL: opening, streaming, recording, refusing, releasing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.llm.scripted_model import ScriptedAnswerModel
from adapters.persistence.models import (
    AiCallCost,
    ConversationSourceUsage,
    DailyTokenUsage,
    Message,
    UserContext,
)
from adapters.persistence.models import Conversation as ConversationRow
from application.conversations.open_conversation import OpenConversationCommand
from application.conversations.send_message import SendMessageCommand
from application.conversations.turn_events import CitationEvent, DoneEvent, ErrorEvent, TokenEvent, TurnEvent
from application.errors import Conflict, NotFound, PermissionDenied
from application.identity.principal import Principal
from domain.ids import new_id
from domain.money import Money

if TYPE_CHECKING:
    from tests.application.conversations.chat_turn_rig import ChatRig
else:
    import importlib.util
    import sys

    _spec = importlib.util.spec_from_file_location(
        "chat_turn_rig", Path(__file__).with_name("chat_turn_rig.py")
    )
    assert _spec is not None
    assert _spec.loader is not None
    if "chat_turn_rig" not in sys.modules:
        sys.modules["chat_turn_rig"] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules["chat_turn_rig"])
    ChatRig = sys.modules["chat_turn_rig"].ChatRig

ANSWER = ("A purple cow ", "is remarkable [1]. ", "Safe is risky [2].")


@pytest.fixture
def rig(engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]) -> ChatRig:
    return ChatRig(engine, session_factory, ScriptedAnswerModel(ANSWER))


async def open_for(rig: ChatRig, principal: Principal, chatbot_id: str, **kw: Any) -> str:
    async with rig.unit() as u:
        opened = await u.open(OpenConversationCommand(principal=principal, chatbot_id=chatbot_id, **kw))
    return str(opened.conversation.id)


async def send(
    rig: ChatRig,
    principal: Principal,
    conversation_id: str,
    text: str = "Why is a purple cow remarkable, and is safe risky?",
) -> list[TurnEvent]:
    async with rig.unit() as u:
        turn = await u.send(
            SendMessageCommand(principal=principal, conversation_id=conversation_id, content=text)
        )
        return [event async for event in turn.events()]


async def count(engine: AsyncEngine, model: Any, **where: Any) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await conn.scalar(query) or 0)


async def conversation_row(engine: AsyncEngine, conversation_id: str) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(select(ConversationRow).where(ConversationRow.id == conversation_id))
        ).one()


async def test_a_turn_streams_and_records_everything_in_one_go(rig: ChatRig, engine: AsyncEngine) -> None:
    seeded = await rig.seed()
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    events = await send(rig, user, conversation_id)

    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    citations = [e for e in events if isinstance(e, CitationEvent)]
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert "".join(tokens) == done.content == "A purple cow is remarkable. Safe is risky."
    assert len(citations) == 2
    assert all(c.page is not None for c in citations)
    assert (done.messages_used, done.messages_remaining, done.status) == (1, 4, "ACTIVE")

    async with engine.connect() as conn:
        messages = (await conn.execute(select(Message).order_by(Message.id))).all()
        usage = (await conn.execute(select(ConversationSourceUsage))).all()
        costs = (await conn.execute(select(AiCallCost))).all()
        daily = (await conn.execute(select(DailyTokenUsage))).all()
    assert [m.role.value for m in messages] == ["USER", "AI"]
    ai = messages[1]
    attribution = ai.attribution
    assert attribution["model"] == "scripted"
    sources = {s["sourceId"]: s for s in attribution["sourcesUsed"]}
    context_chunks = ai.context["chunks"]
    assert {c["chunkId"] for c in context_chunks} <= set(seeded.chunk_ids)
    assert all("relevanceScore" in c for c in context_chunks)
    for source_id, source in sources.items():
        assert source["creatorId"] == seeded.creator_id
        assert source["tokenCount"] == sum(
            c["tokenCount"] for c in context_chunks if c["sourceId"] == source_id
        )
    assert attribution["totalTokens"] == sum(c["tokenCount"] for c in context_chunks)
    assert sum(len(s["citations"]) for s in sources.values()) == 2
    assert {u.source_id: (u.total_tokens, u.message_count) for u in usage} == {
        sid: (s["tokenCount"], 1) for sid, s in sources.items()
    }
    assert len(costs) == 1
    assert costs[0].provider == "scripted"
    assert costs[0].message_id == ai.id
    assert costs[0].output_tokens == done.output_tokens == ai.token_count
    row = await conversation_row(engine, conversation_id)
    assert (row.messages_used, row.input_tokens, row.output_tokens) == (
        1,
        done.input_tokens,
        done.output_tokens,
    )
    assert [(d.subject, d.input_tokens + d.output_tokens) for d in daily] == [
        (f"user:{seeded.user_id}", done.input_tokens + done.output_tokens)
    ]

    # A second turn adds to the same usage rows and sends the history along.
    await send(rig, user, conversation_id, "And what about safe?")
    async with engine.connect() as conn:
        counts = (await conn.execute(select(ConversationSourceUsage.message_count))).scalars().all()
    assert counts
    assert max(counts) == 2
    request = rig.model.requests[-1]  # type: ignore[attr-defined]
    assert [t.role for t in request.messages] == ["user", "assistant", "user"]


async def test_a_failed_answer_consumes_and_records_nothing(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    rig = ChatRig(engine, session_factory, ScriptedAnswerModel(ANSWER, fail_at=1))
    seeded = await rig.seed(message_allowance=1)
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    events = await send(rig, user, conversation_id)
    assert isinstance(events[-1], ErrorEvent)
    assert events[-1].code == "llm-unavailable"
    row = await conversation_row(engine, conversation_id)
    # The reservation completed the one-message conversation; releasing it reopened it.
    assert (row.messages_used, row.status.value, row.completed_at, row.ended_at) == (0, "ACTIVE", None, None)
    for model in (Message, ConversationSourceUsage, AiCallCost, DailyTokenUsage):
        assert await count(engine, model) == 0


async def test_a_cancelled_stream_gives_the_message_back(rig: ChatRig, engine: AsyncEngine) -> None:
    seeded = await rig.seed()
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    async with rig.unit() as u:
        turn = await u.send(
            SendMessageCommand(principal=user, conversation_id=conversation_id, content="cow?")
        )
        stream = turn.events()
        first = await stream.__anext__()
        assert isinstance(first, TokenEvent)
        await stream.aclose()  # the client went away
    row = await conversation_row(engine, conversation_id)
    assert row.messages_used == 0
    assert await count(engine, Message) == 0


async def test_fifty_parallel_sends_for_the_last_message_make_one_answer(
    rig: ChatRig, engine: AsyncEngine
) -> None:
    seeded = await rig.seed(message_allowance=2)
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    await send(rig, user, conversation_id)

    async def attempt() -> str:
        try:
            events = await send(rig, user, conversation_id)
        except Conflict as exc:
            return exc.code
        return "ok" if isinstance(events[-1], DoneEvent) else "error"

    outcomes = await asyncio.gather(*(attempt() for _ in range(50)))
    assert outcomes.count("ok") == 1
    assert len(outcomes) == 50
    assert set(outcomes) - {"ok"} <= {
        "message-conflict",
        "message-allowance-exhausted",
        "conversation-completed",
    }
    row = await conversation_row(engine, conversation_id)
    assert (row.messages_used, row.status.value) == (2, "COMPLETED")
    assert await count(engine, Message) == 4
    assert await count(engine, AiCallCost) == 2
    async with engine.connect() as conn:
        counts = set((await conn.execute(select(ConversationSourceUsage.message_count))).scalars().all())
    assert counts <= {1, 2}
    assert max(counts) == 2


async def test_parallel_sends_with_messages_left_all_answer(rig: ChatRig, engine: AsyncEngine) -> None:
    seeded = await rig.seed(message_allowance=10)
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    answers = await asyncio.gather(*(send(rig, user, conversation_id) for _ in range(6)))
    assert all(isinstance(events[-1], DoneEvent) for events in answers)
    row = await conversation_row(engine, conversation_id)
    assert (row.messages_used, row.status.value) == (6, "ACTIVE")
    assert await count(engine, Message) == 12


async def test_closed_conversations_are_refused_with_specific_codes(
    rig: ChatRig, engine: AsyncEngine
) -> None:
    seeded = await rig.seed(message_allowance=1, expiry=timedelta(hours=1))
    user = Principal.user(seeded.user_id)
    done_id = await open_for(rig, user, seeded.chatbot_id)
    await send(rig, user, done_id)
    with pytest.raises(Conflict) as completed:
        await send(rig, user, done_id)
    assert completed.value.code == "conversation-completed"

    expiring = await open_for(rig, user, seeded.chatbot_id)
    rig.clock.advance(timedelta(hours=2))
    with pytest.raises(Conflict) as expired:
        await send(rig, user, expiring)
    assert expired.value.code == "conversation-expired"
    row = await conversation_row(engine, expiring)
    assert row.status.value == "EXPIRED"  # applied on access
    assert await count(engine, Message) == 2


async def test_token_caps_refuse_before_the_model_is_called(rig: ChatRig, engine: AsyncEngine) -> None:
    seeded = await rig.seed(conversation_token_cap=5)
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    await send(rig, user, conversation_id)  # the first turn may go over; the next one is refused
    calls = len(rig.model.requests)  # type: ignore[attr-defined]
    with pytest.raises(Conflict) as capped:
        await send(rig, user, conversation_id)
    assert capped.value.code == "conversation-token-cap-reached"
    assert len(rig.model.requests) == calls  # type: ignore[attr-defined]
    assert (await conversation_row(engine, conversation_id)).messages_used == 1  # taken, then given back


async def test_a_failing_give_back_never_hides_why_the_turn_was_refused(
    rig: ChatRig, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = await rig.seed(conversation_token_cap=5)
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    await send(rig, user, conversation_id)
    async with rig.unit() as u:

        async def database_gone(*_: Any, **__: Any) -> bool:
            raise RuntimeError("connection lost")

        u.chat_log.release_message = database_gone  # type: ignore[method-assign]
        with pytest.raises(Conflict) as capped:
            await u.send(SendMessageCommand(principal=user, conversation_id=conversation_id, content="cow?"))
    assert capped.value.code == "conversation-token-cap-reached"
    assert "could not give back the reserved message" in caplog.text
    # the message stays used (never counted twice): the reservation stood, the release failed
    assert (await conversation_row(engine, conversation_id)).messages_used == 2


async def test_a_send_cancelled_while_its_reservation_is_on_the_way_gives_it_back(
    rig: ChatRig, engine: AsyncEngine
) -> None:
    seeded = await rig.seed()
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    applied = asyncio.Event()
    async with rig.unit() as u:
        reserve = u.conversations.reserve_message

        async def slow_answer(*args: Any, **kwargs: Any) -> Any:
            reserved = await reserve(*args, **kwargs)  # the update is applied (it commits by itself)...
            applied.set()
            await asyncio.sleep(0.05)  # ...and its answer is still on the way when the client leaves
            return reserved

        u.conversations.reserve_message = slow_answer  # type: ignore[method-assign]
        task = asyncio.create_task(
            u.send(SendMessageCommand(principal=user, conversation_id=conversation_id, content="cow?"))
        )
        await applied.wait()
        assert (await conversation_row(engine, conversation_id)).messages_used == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (await conversation_row(engine, conversation_id)).messages_used == 0
    assert await count(engine, Message) == 0
    assert len(rig.model.requests) == 0  # type: ignore[attr-defined]


async def test_strangers_take_nothing_and_learn_nothing(rig: ChatRig, engine: AsyncEngine) -> None:
    seeded = await rig.seed(message_allowance=1)
    owner = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, owner, seeded.chatbot_id)
    stranger = Principal.user(await rig.add_user("stranger"))
    refusals = []
    for who, conversation in ((stranger, conversation_id), (owner, new_id())):
        with pytest.raises(NotFound) as hidden:
            await send(rig, who, conversation)
        refusals.append((hidden.value.code, hidden.value.message))
    assert refusals[0] == refusals[1]  # someone else's conversation answers exactly like a missing one
    assert (await conversation_row(engine, conversation_id)).messages_used == 0
    await send(rig, owner, conversation_id)  # the owner's one message is still there


async def test_daily_cap_counts_every_conversation_of_the_user(rig: ChatRig) -> None:
    seeded = await rig.seed(daily_user_token_cap=10)
    user = Principal.user(seeded.user_id)
    first = await open_for(rig, user, seeded.chatbot_id)
    await send(rig, user, first)
    second = await open_for(rig, user, seeded.chatbot_id)
    with pytest.raises(Conflict) as capped:
        await send(rig, user, second)
    assert capped.value.code == "daily-token-cap-reached"
    rig.clock.advance(timedelta(days=1))
    events = await send(rig, user, second)
    assert isinstance(events[-1], DoneEvent)


async def test_max_output_tokens_come_from_the_version(rig: ChatRig) -> None:
    seeded = await rig.seed(max_output_tokens=3)
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    events = await send(rig, user, conversation_id)
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert done.stop_reason == "max_tokens"
    assert rig.model.requests[-1].max_output_tokens == 3  # type: ignore[attr-defined]


async def test_user_context_goes_into_the_prompt_only_when_visible_and_unexpired(
    rig: ChatRig, engine: AsyncEngine
) -> None:
    seeded = await rig.seed()
    reader = await rig.add_user("reader")
    now = rig.clock.now()
    async with engine.begin() as conn:
        for key, visible, expires in (
            ("industry", True, None),
            ("hidden", False, None),
            ("stale", True, now - timedelta(days=1)),
        ):
            await conn.execute(
                UserContext.__table__.insert().values(
                    id=new_id(),
                    user_id=reader,
                    chatbot_id=None,
                    key=key,
                    value={"v": key},
                    source="USER_PROVIDED",
                    is_visible=visible,
                    is_editable=True,
                    expires_at=expires,
                    created_at=now,
                    updated_at=now,
                )
            )
    principal = Principal.user(reader)
    conversation_id = await open_for(rig, principal, seeded.chatbot_id)
    await send(rig, principal, conversation_id)
    system = rig.model.requests[-1].system_prompt  # type: ignore[attr-defined]
    assert "industry" in system
    assert "hidden" not in system
    assert "stale" not in system
    async with engine.connect() as conn:
        context = (await conn.execute(select(Message.context).where(Message.role == "AI"))).scalar_one()
    assert set(context["used"]) == {"industry"}


async def test_who_may_open_without_a_purchase(rig: ChatRig) -> None:
    paid = await rig.seed(slug="paid", price=Money.of(500, "USD"), allow_anonymous=False)
    buyer = Principal.user(await rig.add_user("buyer"))
    with pytest.raises(PermissionDenied) as refused:
        await open_for(rig, buyer, paid.chatbot_id)
    assert refused.value.code == "purchase-required"

    free_members_only = await rig.seed(slug="free", allow_anonymous=False)
    with pytest.raises(PermissionDenied) as anonymous:
        await open_for(rig, Principal.anonymous("anon-1"), free_members_only.chatbot_id)
    assert anonymous.value.code == "anonymous-not-allowed"
    assert await open_for(rig, buyer, free_members_only.chatbot_id)

    trial = await rig.seed(slug="trial", price=Money.of(500, "USD"), allow_anonymous=True)
    visitor = Principal.anonymous("anon-2")
    conversation_id = await open_for(rig, visitor, trial.chatbot_id)
    events = await send(rig, visitor, conversation_id)
    assert isinstance(events[-1], DoneEvent)


async def test_strangers_cannot_send_in_someone_elses_conversation(rig: ChatRig) -> None:
    seeded = await rig.seed()
    owner = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, owner, seeded.chatbot_id)
    stranger = Principal.user(await rig.add_user("stranger"))
    from application.errors import NotFound

    with pytest.raises(NotFound):
        await send(rig, stranger, conversation_id)


async def test_a_chatbot_with_nothing_indexed_yet_answers_without_sources(
    rig: ChatRig, engine: AsyncEngine
) -> None:
    from adapters.vectors.memory_index import InMemoryVectorIndex

    seeded = await rig.seed()
    rig.index = InMemoryVectorIndex()  # no collection: no ingestion has run yet
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    events = await send(rig, user, conversation_id)
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert done.attribution["sourcesUsed"] == []
    assert not [e for e in events if isinstance(e, CitationEvent)]
    assert await count(engine, ConversationSourceUsage) == 0


async def test_opening_from_a_purchase_is_checked_and_idempotent(rig: ChatRig, engine: AsyncEngine) -> None:
    from sqlalchemy import insert

    from adapters.persistence.models import Purchase
    from application.errors import NotFound

    seeded = await rig.seed(price=Money.of(500, "USD"), allow_anonymous=False)
    buyer = await rig.add_user("buyer")
    other = await rig.add_user("other")
    purchases = {"done": new_id(), "pending": new_id()}
    async with engine.begin() as conn:
        for key, status in (("done", "COMPLETED"), ("pending", "PENDING")):
            await conn.execute(
                insert(Purchase).values(
                    id=purchases[key],
                    purchaser_user_id=buyer,
                    chatbot_id=seeded.chatbot_id,
                    payment_processor="SANDBOX",
                    external_payment_id=f"pay_{key}",
                    processing_fee_cents=45,
                    currency="USD",
                    amount_cents=500,
                    net_amount_cents=455,
                    status=status,
                )
            )
    principal = Principal.user(buyer)
    first = await open_for(rig, principal, seeded.chatbot_id, purchase_id=purchases["done"])
    again = await open_for(rig, principal, seeded.chatbot_id, purchase_id=purchases["done"])
    assert first == again  # a repeated webhook opens nothing new
    row = await conversation_row(engine, first)
    assert (row.purchase_id, row.message_allowance) == (purchases["done"], 5)
    with pytest.raises(NotFound):
        await open_for(rig, Principal.user(other), seeded.chatbot_id, purchase_id=purchases["done"])
    with pytest.raises(Conflict) as pending:
        await open_for(rig, principal, seeded.chatbot_id, purchase_id=purchases["pending"])
    assert pending.value.code == "purchase-not-completed"
    other_bot = await rig.seed(slug="other")
    with pytest.raises(Conflict) as mismatch:
        await open_for(rig, principal, other_bot.chatbot_id, purchase_id=purchases["done"])
    assert mismatch.value.code == "purchase-chatbot-mismatch"
    assert await count(engine, ConversationRow) == 1


async def test_a_turn_never_streamed_gives_its_message_back_when_the_request_ends(
    rig: ChatRig, engine: AsyncEngine
) -> None:
    seeded = await rig.seed()
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    async with rig.unit() as u:
        await u.send(SendMessageCommand(principal=user, conversation_id=conversation_id, content="cow?"))
        # reserved, and read from another connection: no transaction is held while a turn waits
        assert (await conversation_row(engine, conversation_id)).messages_used == 1
        await u.send.close_unfinished()  # what the request scope does when it ends
    assert (await conversation_row(engine, conversation_id)).messages_used == 0
    async with rig.unit() as u:
        turn = await u.send(
            SendMessageCommand(principal=user, conversation_id=conversation_id, content="cow?")
        )
        events = [event async for event in turn.events()]
        await u.send.close_unfinished()  # harmless after a completed turn
    assert isinstance(events[-1], DoneEvent)
    assert (await conversation_row(engine, conversation_id)).messages_used == 1


class FailingIndex:
    """A vector backend that is down: every search fails."""

    async def search(self, *args: Any, **kwargs: Any) -> Any:
        from application.errors import ServiceUnavailable

        raise ServiceUnavailable("the vector backend is unreachable", code="vector-backend-unavailable")


async def test_a_turn_that_fails_before_the_model_reserves_nothing(rig: ChatRig, engine: AsyncEngine) -> None:
    """Everything the prompt needs is read before the message is reserved: when that fails, the
    allowance is untouched and nothing is written."""
    from application.errors import ServiceUnavailable

    seeded = await rig.seed(message_allowance=1)
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    rig.index = FailingIndex()
    with pytest.raises(ServiceUnavailable):
        await send(rig, user, conversation_id)
    row = await conversation_row(engine, conversation_id)
    assert (row.messages_used, row.status.value) == (0, "ACTIVE")
    assert rig.model.requests == []  # type: ignore[attr-defined]
    assert await count(engine, Message) == 0
