"""The harness of the repository contract (``test_repositories_contract.py``): one request's
repositories on each adapter, and builders for a small, valid world of domain objects.

Use-case tests may use ``MemoryBackend`` too: it is the in-memory fakes wired the way the
container wires the SQL adapters (every repository of a unit bound to one session).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.memory import (
    InMemoryChatbotRepository,
    InMemoryConversationRepository,
    InMemoryCreatorRepository,
    InMemorySession,
    InMemorySourceRepository,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryUserRepository,
)
from adapters.persistence.models import Base
from adapters.persistence.repositories import (
    SqlAlchemyChatbotRepository,
    SqlAlchemyConversationRepository,
    SqlAlchemyCreatorRepository,
    SqlAlchemySourceRepository,
    SqlAlchemyUserRepository,
)
from adapters.persistence.uow import SqlAlchemyUnitOfWork
from application.catalogue.ports import CreatorRepository, SourceRepository, UserRepository
from application.chatbots.ports import ChatbotRepository
from application.conversations.ports import ConversationRepository
from application.ports.uow import UnitOfWork
from domain.catalogue import Creator, Source, SourceType, User
from domain.chatbots import Chatbot, ChatbotConfig, ChatbotType, RagSettings, VersionHistory
from domain.conversations import Conversation
from domain.ids import new_id
from domain.money import Money
from domain.roles import ChatbotOwnerRole, ChatbotOwners, CreatorMembers, CreatorRole
from domain.shares import ShareSet
from domain.slug import Slug

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# ---- the harness ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Repos:
    uow: UnitOfWork
    users: UserRepository
    creators: CreatorRepository
    sources: SourceRepository
    chatbots: ChatbotRepository
    conversations: ConversationRepository


class Backend(Protocol):
    def unit(self) -> AbstractAsyncContextManager[Repos]:
        """One request: a fresh session and the repositories bound to it."""
        ...

    async def is_empty(self) -> bool: ...


class MemoryBackend:
    def __init__(self) -> None:
        self.store = InMemoryStore()

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Repos]:
        async with InMemorySession(self.store) as s:
            yield Repos(
                InMemoryUnitOfWork(s),
                InMemoryUserRepository(s),
                InMemoryCreatorRepository(s),
                InMemorySourceRepository(s),
                InMemoryChatbotRepository(s),
                InMemoryConversationRepository(s),
            )

    async def is_empty(self) -> bool:
        return self.store.is_empty()


class SqlBackend:
    def __init__(self, engine: AsyncEngine, factory: async_sessionmaker[AsyncSession]) -> None:
        self.engine = engine
        self.factory = factory

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Repos]:
        async with self.factory() as s:
            yield Repos(
                SqlAlchemyUnitOfWork(s),
                SqlAlchemyUserRepository(s),
                SqlAlchemyCreatorRepository(s),
                SqlAlchemySourceRepository(s),
                SqlAlchemyChatbotRepository(s),
                SqlAlchemyConversationRepository(s),
            )

    async def is_empty(self) -> bool:
        async with self.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if await conn.scalar(select(func.count()).select_from(table)):
                    return False
        return True


# ---- builders -------------------------------------------------------------------------------


def a_user(name: str) -> User:
    return User(id=new_id(), external_id=f"idp|{name}", email=f"{name}@example.com", first_name=name.title())


def a_creator(slug: str, owner: User, **members: CreatorRole) -> Creator:
    return Creator(
        id=new_id(),
        name=slug.replace("-", " ").title(),
        slug=Slug(slug),
        members=CreatorMembers({owner.id: CreatorRole.OWNER, **members}),
        bio="Writes about marketing.",
        social_links={"website": f"https://{slug}.example.com"},
    )


def a_config(chatbot_type: ChatbotType = ChatbotType.CREATOR, **changes: object) -> ChatbotConfig:
    config = ChatbotConfig(
        title="Ask Seth",
        system_prompt="Answer from the books, cite every claim.",
        model_provider="offline",
        model_name="echo-1",
        price=Money.of(499, "USD"),
        type=chatbot_type,
        description="Marketing questions",
        rag=RagSettings.selected(["src-1", "src-2"], top_k=5),
        message_allowance=20,
        expiry=timedelta(days=30, seconds=1, microseconds=500),
        allow_anonymous=True,
        notes="first",
        conversation_token_cap=50_000,
    )
    return replace(config, **changes)  # type: ignore[arg-type]


def a_chatbot(
    slug: str,
    author: User,
    owners: dict[str, ChatbotOwnerRole],
    chatbot_type: ChatbotType = ChatbotType.CREATOR,
) -> tuple[Chatbot, VersionHistory]:
    chatbot_id = new_id()
    history = VersionHistory(chatbot_id)
    version = history.publish(a_config(chatbot_type), at=T0, by=author.id).version
    chatbot = Chatbot(id=chatbot_id, slug=Slug(slug), type=chatbot_type, owners=ChatbotOwners(owners))
    chatbot.point_to(version)
    return chatbot, history


@dataclass
class World:
    """A user who owns a creator, which has one source and one CREATOR chatbot."""

    user: User
    creator: Creator
    source: Source
    chatbot: Chatbot
    history: VersionHistory


async def build_world(db: Backend, slug: str = "seth") -> World:
    user = a_user(f"{slug}-user")
    creator = a_creator(slug, user)
    source = Source(
        id=new_id(),
        title="Purple Cow",
        type=SourceType.BOOK,
        created_by=user.id,
        shares=ShareSet.sole(creator.id),
    )
    chatbot, history = a_chatbot(f"{slug}-bot", user, {creator.id: ChatbotOwnerRole.PRIMARY_OWNER})
    async with db.unit() as r:
        await r.users.add(user)
        await r.creators.add(creator)
        await r.sources.add(source, effective_from=T0)
        await r.chatbots.add(chatbot, history.versions[0])
        await r.uow.commit()
    return World(user, creator, source, chatbot, history)


def a_conversation(
    world: World, *, user: User | None = None, anonymous_id: str | None = None, allowance: int = 3
) -> Conversation:
    current = world.history.current
    assert current is not None
    return Conversation.start(
        chatbot_id=world.chatbot.id,
        version_id=current.id,
        allowance=allowance,
        started_at=T0,
        lifetime=timedelta(days=7),
        user_id=None if anonymous_id else (user or world.user).id,
        anonymous_id=anonymous_id,
    )
