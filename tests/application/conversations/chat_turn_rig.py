"""A chat rig for use-case, HTTP-free tests and the benchmark: the conversation use cases wired on
real repositories (SQLite or PostgreSQL) with an in-memory vector index, the lexical embedder,
a fake clock and any answer model. Loaded by path (see ``load_rig``)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.clock import FakeClock
from adapters.embedding.lexical import LexicalEmbedder
from adapters.persistence.models import File as FileRow
from adapters.persistence.repositories import (
    SqlAlchemyChatbotRepository,
    SqlAlchemyConversationRepository,
    SqlAlchemyCreatorRepository,
    SqlAlchemySourceRepository,
    SqlAlchemyUserRepository,
)
from adapters.persistence.repositories.chat import (
    SqlChatLog,
    SqlConversationFiles,
    SqlPromptReader,
    SqlPurchaseLookup,
    SqlSourceDirectory,
)
from adapters.persistence.repositories.roles import SqlRoleResolver
from adapters.persistence.uow import SqlAlchemyUnitOfWork
from adapters.vectors.memory_index import InMemoryVectorIndex
from application.chat.model_port import AnswerModel
from application.chat.pricing import ModelPricing
from application.conversations.archive_conversation import ArchiveConversation
from application.conversations.attach_file import AttachFile
from application.conversations.expire_conversations import ExpireConversations
from application.conversations.get_conversation import GetConversation
from application.conversations.list_conversations import ListConversations
from application.conversations.open_conversation import OpenConversation
from application.conversations.send_message import SendMessage
from application.identity.authorizer import MatrixAuthorizer
from application.retrieval.ports import IndexedChunk, VectorLayout
from domain.catalogue import Source, SourceType
from domain.chatbots import Chatbot, ChatbotConfig, RagSettings, VersionHistory
from domain.ids import new_id
from domain.money import Money
from domain.roles import ChatbotOwnerRole, ChatbotOwners
from domain.shares import ShareSet
from domain.slug import Slug


def load_module(name: str, path: Path) -> ModuleType:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


harness = load_module(
    "repository_harness", Path(__file__).resolve().parents[2] / "contracts" / "repository_harness.py"
)
T0 = harness.T0

PASSAGES = (
    "A purple cow is remarkable. Remarkable products get talked about, and being boring is the "
    "riskiest strategy of all.",
    "Marketing is the product itself: if the product is not worth talking about, no advertising "
    "will save it.",
    "Early adopters, the sneezers, spread ideas to everyone else when the idea is remarkable.",
    "Safe is risky. The old rules of mass media advertising no longer work for new products.",
)


@dataclass
class Seeded:
    user_id: str
    creator_id: str
    source_ids: list[str]
    chatbot_id: str
    version_id: str
    chunk_ids: list[str]
    file_ids: list[str]


@dataclass
class Services:
    session: AsyncSession
    open: OpenConversation
    send: SendMessage
    uow: SqlAlchemyUnitOfWork
    conversations: SqlAlchemyConversationRepository
    chat_log: SqlChatLog
    expire: ExpireConversations
    archive: ArchiveConversation
    get: GetConversation
    list: ListConversations
    attach: AttachFile


class ChatRig:
    def __init__(
        self,
        engine: AsyncEngine,
        factory: async_sessionmaker[AsyncSession],
        model: AnswerModel,
        *,
        index: Any = None,
    ) -> None:
        self.engine = engine
        self.factory = factory
        self.model = model
        self.clock = FakeClock(T0 + timedelta(minutes=1))
        self.index = index or InMemoryVectorIndex()
        self.embedder = LexicalEmbedder()
        self.pricing = ModelPricing()
        self.blobs: dict[str, bytes] = {}

    async def read_blob(self, key: str) -> bytes:
        return self.blobs[key]

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Services]:
        async with self.factory() as s:
            uow = SqlAlchemyUnitOfWork(s)
            conversations = SqlAlchemyConversationRepository(s)
            chatbots = SqlAlchemyChatbotRepository(s)
            authorizer = MatrixAuthorizer(SqlRoleResolver(s))
            chat_log = SqlChatLog(s)
            files = SqlConversationFiles(s, self.read_blob)
            yield Services(
                session=s,
                open=OpenConversation(
                    chatbots, conversations, SqlPurchaseLookup(s), authorizer, self.clock, uow
                ),
                send=SendMessage(
                    conversations,
                    chatbots,
                    chat_log,
                    SqlPromptReader(s, self.read_blob),
                    SqlSourceDirectory(s),
                    self.embedder,
                    self.index,
                    self.model,
                    self.pricing,
                    authorizer,
                    self.clock,
                    uow,
                ),
                uow=uow,
                conversations=conversations,
                chat_log=chat_log,
                expire=ExpireConversations(conversations, self.clock, uow),
                archive=ArchiveConversation(conversations, authorizer, self.clock, uow),
                get=GetConversation(conversations, chat_log, authorizer, self.clock, uow),
                list=ListConversations(conversations),
                attach=AttachFile(conversations, files, authorizer, uow),
            )

    async def seed(
        self,
        *,
        slug: str = "seth",
        passages: Sequence[str] = PASSAGES,
        sources: int = 2,
        **config_changes: Any,
    ) -> Seeded:
        """A creator with ``sources`` sources (passages dealt round-robin, chunks indexed) and a
        public chatbot whose version selects them."""
        user = harness.a_user(f"{slug}-owner")
        creator = harness.a_creator(slug, user)
        source_list = [
            Source(
                id=new_id(),
                title=f"Book {n + 1}",
                type=SourceType.BOOK,
                created_by=user.id,
                shares=ShareSet.sole(creator.id),
            )
            for n in range(sources)
        ]
        config: ChatbotConfig = harness.a_config(
            rag=RagSettings.selected([s.id for s in source_list], top_k=4),
            price=Money.of(0, "USD"),
            message_allowance=5,
            model_provider="scripted",
            model_name="scripted",
            conversation_token_cap=None,
        )
        config = replace(config, **config_changes)
        chatbot_id = new_id()
        history = VersionHistory(chatbot_id)
        version = history.publish(config, at=T0, by=user.id).version
        chatbot = Chatbot(
            id=chatbot_id,
            slug=Slug(f"{slug}-bot"),
            type=config.type,
            owners=ChatbotOwners({creator.id: ChatbotOwnerRole.PRIMARY_OWNER}),
        )
        chatbot.point_to(version)
        chatbot.make_public()
        async with self.factory() as s:
            uow = SqlAlchemyUnitOfWork(s)
            await SqlAlchemyUserRepository(s).add(user)
            await SqlAlchemyCreatorRepository(s).add(creator)
            for source in source_list:
                await SqlAlchemySourceRepository(s).add(source, effective_from=T0)
            await SqlAlchemyChatbotRepository(s).add(chatbot, version)
            # one active READY file per source, as ingestion leaves it: answers only search those
            file_ids = [new_id() for _ in source_list]
            for file_id, source in zip(file_ids, source_list, strict=True):
                s.add(
                    FileRow(
                        id=file_id, source_id=source.id, owner_user_id=user.id, creator_id=creator.id,
                        blob_url=f"seed/{file_id}", file_name="book.md", mime_type="text/markdown",
                        size_bytes=1, status="READY", is_active=True,
                    )
                )  # fmt: skip
            await uow.commit()
        await self.index.ensure_collection(VectorLayout.of(self.embedder))
        embeddings = await self.embedder.embed_documents(list(passages))
        chunk_ids: list[str] = []
        chunks: list[IndexedChunk] = []
        for n, (text, embedding) in enumerate(zip(passages, embeddings, strict=True)):
            chunk_id = new_id()
            chunk_ids.append(chunk_id)
            chunks.append(
                IndexedChunk(
                    chunk_id=chunk_id,
                    source_id=source_list[n % sources].id,
                    file_id=file_ids[n % sources],
                    text=text,
                    token_count=10 + n,
                    page=n + 1,
                    embedding=embedding,
                )
            )
        await self.index.upsert(chunks)
        return Seeded(
            user_id=user.id,
            creator_id=creator.id,
            source_ids=[s.id for s in source_list],
            chatbot_id=chatbot_id,
            version_id=version.id,
            chunk_ids=chunk_ids,
            file_ids=file_ids,
        )

    async def add_creator(self, slug: str) -> str:
        """A creator (and its owner) holding no source yet."""
        owner = harness.a_user(f"{slug}-owner")
        creator = harness.a_creator(slug, owner)
        async with self.factory() as s:
            await SqlAlchemyUserRepository(s).add(owner)
            await SqlAlchemyCreatorRepository(s).add(creator)
            await SqlAlchemyUnitOfWork(s).commit()
        return str(creator.id)

    async def add_user(self, name: str) -> str:
        user = harness.a_user(name)
        async with self.factory() as s:
            await SqlAlchemyUserRepository(s).add(user)
            await SqlAlchemyUnitOfWork(s).commit()
        return str(user.id)


def load_rig() -> ModuleType:
    return load_module("chat_turn_rig", Path(__file__))
