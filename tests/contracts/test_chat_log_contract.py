"""Contract of ``ChatLog`` (``application.conversations.chat_ports``): the in-memory fake, SQLite
and PostgreSQL behave alike on the transcript, the usage counters and releasing a message."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.memory import InMemoryConversationRepository, InMemorySession, InMemoryUnitOfWork
from adapters.memory.chat import InMemoryChatData, InMemoryChatLog
from adapters.persistence.repositories import SqlAlchemyConversationRepository
from adapters.persistence.repositories.chat import SqlChatLog
from adapters.persistence.uow import SqlAlchemyUnitOfWork
from application.conversations.chat_ports import ChatLog, NewMessage, SourceUsage
from application.conversations.ports import ConversationRepository
from application.ports.uow import UnitOfWork
from domain.conversations import ConversationStatus
from domain.ids import new_id

if TYPE_CHECKING:
    from tests.contracts.repository_harness import T0, MemoryBackend, SqlBackend, a_conversation, build_world
else:
    if "repository_harness" not in sys.modules:
        _spec = importlib.util.spec_from_file_location(
            "repository_harness", Path(__file__).with_name("repository_harness.py")
        )
        assert _spec is not None
        assert _spec.loader is not None
        sys.modules["repository_harness"] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules["repository_harness"])
    _h = sys.modules["repository_harness"]
    T0, MemoryBackend, SqlBackend = _h.T0, _h.MemoryBackend, _h.SqlBackend
    a_conversation, build_world = _h.a_conversation, _h.build_world


@dataclass(frozen=True, slots=True)
class ChatUnit:
    uow: UnitOfWork
    log: ChatLog
    conversations: ConversationRepository


class ChatBackend(Protocol):
    repos: Any

    def unit(self) -> AbstractAsyncContextManager[ChatUnit]: ...

    def is_empty(self) -> bool: ...


class MemoryChat:
    def __init__(self) -> None:
        self.repos = MemoryBackend()
        self.data = InMemoryChatData()

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[ChatUnit]:
        async with InMemorySession(self.repos.store) as s:
            yield ChatUnit(
                InMemoryUnitOfWork(s), InMemoryChatLog(s, self.data), InMemoryConversationRepository(s)
            )

    def is_empty(self) -> bool:
        return self.data.is_empty()


class SqlChat:
    def __init__(self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession]) -> None:
        self.repos = SqlBackend(engine, factory)
        self.factory = factory

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[ChatUnit]:
        async with self.factory() as s:
            yield ChatUnit(SqlAlchemyUnitOfWork(s), SqlChatLog(s), SqlAlchemyConversationRepository(s))

    def is_empty(self) -> bool:
        return True  # the engine fixture empties every table before each test


def message(role: str, text: str) -> NewMessage:
    return NewMessage(id=new_id(), role=role, content=text, token_count=len(text.split()), created_at=T0)  # type: ignore[arg-type]


class ChatLogContract:
    @pytest.fixture
    async def chat(self, chat_backend: ChatBackend) -> ChatBackend:
        assert chat_backend.is_empty()
        return chat_backend

    async def opened(self, chat: ChatBackend, allowance: int = 3) -> tuple[str, str]:
        world = await build_world(chat.repos)
        conversation = a_conversation(world, allowance=allowance)
        async with chat.unit() as u:
            await u.conversations.add(conversation)
            await u.uow.commit()
        return conversation.id, world.source.id

    async def test_transcript_is_ordered_and_paged(self, chat: ChatBackend) -> None:
        cid, _ = await self.opened(chat)
        async with chat.unit() as u:
            assert await u.log.recent_messages(cid, limit=5) == []
            await u.log.add_messages(cid, [message("USER", "one"), message("AI", "two")])
            await u.log.add_messages(cid, [message("USER", "three"), message("AI", "four")])
            await u.uow.commit()
        async with chat.unit() as u:
            recent = await u.log.recent_messages(cid, limit=3)
            assert [m.content for m in recent] == ["two", "three", "four"]
            first = await u.log.messages_page(cid, limit=2)
            assert [m.content for m in first] == ["one", "two"]
            rest = await u.log.messages_page(cid, limit=5, after_id=first[-1].id)
            assert [(m.role, m.content) for m in rest] == [("USER", "three"), ("AI", "four")]

    async def test_recent_messages_are_the_newest_by_creation_time(self, chat: ChatBackend) -> None:
        cid, _ = await self.opened(chat)
        later = NewMessage(
            id=new_id(), role="USER", content="later", token_count=1, created_at=T0 + timedelta(1)
        )
        earlier = NewMessage(id=new_id(), role="AI", content="earlier", token_count=1, created_at=T0)
        async with chat.unit() as u:  # the later message has the smaller id
            await u.log.add_messages(cid, [later, earlier])
            await u.uow.commit()
        async with chat.unit() as u:
            assert [m.content for m in await u.log.recent_messages(cid, limit=5)] == ["earlier", "later"]
            assert [m.content for m in await u.log.recent_messages(cid, limit=1)] == ["later"]

    async def test_recent_messages_leave_out_the_answer_documents(self, chat: ChatBackend) -> None:
        """A prompt's history needs role, content and tokens; attribution and context are large
        and only the transcript pages carry them."""
        cid, _ = await self.opened(chat)
        question = message("USER", "a question")  # ids are ordered: the question's comes first
        answer = NewMessage(
            id=new_id(),
            role="AI",
            content="an answer",
            token_count=2,
            attribution={"sourcesUsed": [], "totalTokens": 0, "model": "m"},
            context={"chunks": [{"chunkId": "c1", "text": "long passage"}]},
            created_at=T0,
        )
        async with chat.unit() as u:
            await u.log.add_messages(cid, [question, answer])
            await u.uow.commit()
        async with chat.unit() as u:
            recent = await u.log.recent_messages(cid, limit=5)
            page = await u.log.messages_page(cid, limit=5)
        assert [(m.role, m.content, m.token_count) for m in recent] == [
            ("USER", "a question", 2),
            ("AI", "an answer", 2),
        ]
        assert [(m.attribution, m.context) for m in recent] == [(None, None), (None, None)]
        assert recent[1].created_at == T0
        assert page[1].attribution == answer.attribution
        assert page[1].context == answer.context

    async def test_source_usage_accumulates_per_source(self, chat: ChatBackend) -> None:
        cid, source_id = await self.opened(chat)
        async with chat.unit() as u:
            assert await u.log.source_usage(cid) == []
            await u.log.record_source_usage(cid, [SourceUsage(source_id=source_id, tokens=30)], at=T0)
            later = T0 + timedelta(minutes=5)
            await u.log.record_source_usage(cid, [SourceUsage(source_id=source_id, tokens=12)], at=later)
            await u.uow.commit()
        async with chat.unit() as u:
            [row] = await u.log.source_usage(cid)
        assert (row.source_id, row.total_tokens, row.message_count) == (source_id, 42, 2)
        assert (row.first_used_at, row.last_used_at) == (T0, T0 + timedelta(minutes=5))

    async def test_daily_tokens_add_up_under_concurrency(self, chat: ChatBackend) -> None:
        day = T0.date()

        async def add() -> None:
            async with chat.unit() as u:
                await u.log.add_daily_tokens("user:x", day, input_tokens=3, output_tokens=4)
                await u.uow.commit()

        await asyncio.gather(*(add() for _ in range(10)))
        async with chat.unit() as u:
            assert await u.log.daily_tokens("user:x", day) == 70
            assert await u.log.daily_tokens("user:x", day + timedelta(days=1)) == 0
            assert await u.log.daily_tokens("user:y", day) == 0

    async def test_release_gives_back_exactly_the_reserved_message(self, chat: ChatBackend) -> None:
        cid, _ = await self.opened(chat, allowance=1)
        at = T0 + timedelta(minutes=1)
        async with chat.unit() as u:
            opened = await u.conversations.get(cid)
            assert opened is not None
            reserved = await u.conversations.reserve_message(
                cid, user_id=opened.user_id, anonymous_id=opened.anonymous_id, at=at
            )
            assert reserved is not None
            await u.uow.commit()
        async with chat.unit() as u:
            completed = await u.conversations.get(cid)
            assert completed is not None
            assert completed.status is ConversationStatus.COMPLETED
            assert not await u.log.release_message(cid, reserved_used=2)
            assert not await u.log.release_message(cid, reserved_used=0)
            assert await u.log.release_message(cid, reserved_used=1)
            assert not await u.log.release_message(cid, reserved_used=1)
            await u.uow.commit()
        async with chat.unit() as u:
            reopened = await u.conversations.get(cid)
        assert reopened is not None
        assert (reopened.status, reopened.messages_used) == (ConversationStatus.ACTIVE, 0)
        assert (reopened.completed_at, reopened.ended_at) == (None, None)


class TestInMemoryChatLog(ChatLogContract):
    @pytest.fixture
    def chat_backend(self) -> ChatBackend:
        return MemoryChat()


class TestSqlChatLog(ChatLogContract):
    """SQLite and PostgreSQL through the shared ``engine`` fixture's parameter."""

    @pytest.fixture
    def chat_backend(
        self, engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
    ) -> ChatBackend:
        return SqlChat(engine, session_factory)
