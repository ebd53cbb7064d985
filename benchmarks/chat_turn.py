"""Chat-turn overhead of the embedded default, beside a floor measured in the same run.

    python benchmarks/chat_turn.py                   # 20k indexed chunks, 300 turns
    python benchmarks/chat_turn.py --chunks 5000 --turns 100

What is timed: one whole `SendMessage` turn on a SQLite file (WAL, as the application runs it)
with a zero-delay streaming model, so everything measured is the platform's own work: the
authorization and conversation reads, the guarded reservation (its own short transaction), the
query embedding, the vector search over the chatbot's sources (the in-memory index, which is
what serves searches of the embedded default), reading the history, user context and files,
building the prompt, streaming, and the one transaction recording both messages, source usage,
token counts, the call's cost and the daily tokens.

The floor, measured in the same process on the same data: one query embedding, one raw vector
search and one transaction writing the same rows with plain SQL statements. Time to the first
streamed byte is reported the same way (floor: embedding plus search, since no answer can start
before the passages are found). The last line is ``ratio: X (target 2.0)``: p50 turn / p50 floor.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "src")]

from benchmarks.retrieval import embed_chunks, generate_corpus, generate_queries, percentile  # noqa: E402
from sqlalchemy import update  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from adapters.clock import SystemClock  # noqa: E402
from adapters.embedding.lexical import LexicalEmbedder  # noqa: E402
from adapters.llm.scripted_model import ScriptedAnswerModel  # noqa: E402
from adapters.persistence.engine import create_engine  # noqa: E402
from adapters.persistence.migrate import upgrade  # noqa: E402
from adapters.persistence.models import AiCallCost, Message  # noqa: E402
from adapters.persistence.models import Conversation as ConversationRow  # noqa: E402
from adapters.persistence.repositories import (  # noqa: E402
    SqlAlchemyChatbotRepository,
    SqlAlchemyConversationRepository,
    SqlAlchemyCreatorRepository,
    SqlAlchemySourceRepository,
    SqlAlchemyUserRepository,
)
from adapters.persistence.repositories.chat import (  # noqa: E402
    SqlChatLog,
    SqlConversationFiles,
    SqlPurchaseLookup,
    SqlSourceDirectory,
    SqlUserKnowledge,
)
from adapters.persistence.repositories.roles import SqlRoleResolver  # noqa: E402
from adapters.persistence.uow import SqlAlchemyUnitOfWork  # noqa: E402
from adapters.vectors.memory_index import InMemoryVectorIndex  # noqa: E402
from application.chat.pricing import ModelPricing  # noqa: E402
from application.conversations.chat_ports import SourceUsage  # noqa: E402
from application.conversations.open_conversation import OpenConversation, OpenConversationCommand  # noqa: E402
from application.conversations.send_message import SendMessage, SendMessageCommand  # noqa: E402
from application.conversations.turn_events import DoneEvent  # noqa: E402
from application.identity.authorizer import MatrixAuthorizer  # noqa: E402
from application.identity.principal import Principal  # noqa: E402
from application.retrieval.ports import VectorLayout  # noqa: E402
from domain.catalogue import Creator, Source, SourceType, User  # noqa: E402
from domain.chatbots import Chatbot, ChatbotConfig, ChatbotType, RagSettings, VersionHistory  # noqa: E402
from domain.ids import new_id  # noqa: E402
from domain.money import Money  # noqa: E402
from domain.roles import ChatbotOwnerRole, ChatbotOwners, CreatorMembers, CreatorRole  # noqa: E402
from domain.shares import ShareSet  # noqa: E402
from domain.slug import Slug  # noqa: E402

ANSWER = ("The passages ", "say it plainly [1]. ", "And again here [2].")


async def seed(
    factory: async_sessionmaker[AsyncSession], source_ids: Sequence[str], top_k: int
) -> tuple[str, str]:
    now = datetime.now(UTC)
    user = User(id=new_id(), external_id="bench|owner", email="owner@example.com")
    creator = Creator(
        id=new_id(), name="Bench", slug=Slug("bench"), members=CreatorMembers({user.id: CreatorRole.OWNER})
    )
    config = ChatbotConfig(
        title="Bench",
        system_prompt="Answer from the sources.",
        model_provider="scripted",
        model_name="scripted",
        price=Money.of(0, "USD"),
        type=ChatbotType.CREATOR,
        rag=RagSettings.selected(source_ids[:3], top_k=top_k),
        message_allowance=100_000,
        expiry=timedelta(days=30),
        conversation_token_cap=10**9,
    )
    chatbot_id = new_id()
    version = VersionHistory(chatbot_id).publish(config, at=now, by=user.id).version
    chatbot = Chatbot(
        id=chatbot_id,
        slug=Slug("bench-bot"),
        type=ChatbotType.CREATOR,
        owners=ChatbotOwners({creator.id: ChatbotOwnerRole.PRIMARY_OWNER}),
    )
    chatbot.point_to(version)
    chatbot.make_public()
    async with factory() as s:
        await SqlAlchemyUserRepository(s).add(user)
        await SqlAlchemyCreatorRepository(s).add(creator)
        for source_id in source_ids:
            source = Source(
                id=source_id,
                title=source_id,
                type=SourceType.BOOK,
                created_by=user.id,
                shares=ShareSet.sole(creator.id),
            )
            await SqlAlchemySourceRepository(s).add(source, effective_from=now)
        await SqlAlchemyChatbotRepository(s).add(chatbot, version)
        await s.commit()
    return user.id, chatbot_id


def send_message(s: AsyncSession, index: InMemoryVectorIndex, embedder: LexicalEmbedder) -> SendMessage:
    clock = SystemClock()
    uow = SqlAlchemyUnitOfWork(s)
    return SendMessage(
        SqlAlchemyConversationRepository(s),
        SqlAlchemyChatbotRepository(s),
        SqlChatLog(s),
        SqlUserKnowledge(s),
        SqlConversationFiles(s),
        SqlSourceDirectory(s),
        embedder,
        index,
        ScriptedAnswerModel(ANSWER),
        ModelPricing(),
        MatrixAuthorizer(SqlRoleResolver(s)),
        clock,
        uow,
    )


async def floor_once(
    factory: async_sessionmaker[AsyncSession],
    index: InMemoryVectorIndex,
    embedder: LexicalEmbedder,
    question: str,
    source_ids: Sequence[str],
    top_k: int,
    conversation_id: str,
) -> tuple[float, float]:
    """Embedding + search + one transaction writing the rows a turn writes; (first byte, total)."""
    start = time.perf_counter()
    query = await embedder.embed_query(question)
    hits = await index.search(query, source_ids=source_ids, top_k=top_k)
    first = time.perf_counter() - start
    now = datetime.now(UTC)
    async with factory() as s:
        log = SqlChatLog(s)
        for role in ("USER", "AI"):
            s.add(
                Message(
                    id=new_id(), conversation_id=conversation_id, role=role, content=question, token_count=9
                )
            )
        totals: dict[str, int] = {}
        for hit in hits:
            totals[hit.source_id] = totals.get(hit.source_id, 0) + hit.token_count
        await log.record_source_usage(
            conversation_id, [SourceUsage(source_id=k, tokens=v) for k, v in totals.items()], at=now
        )
        await s.execute(
            update(ConversationRow)
            .where(ConversationRow.id == conversation_id)
            .values(input_tokens=ConversationRow.input_tokens + 1)
        )
        s.add(
            AiCallCost(
                id=new_id(),
                conversation_id=conversation_id,
                purpose="answer",
                provider="scripted",
                model="scripted",
                input_tokens=1,
                output_tokens=1,
                cost_micros=0,
                currency="USD",
            )
        )
        await log.add_daily_tokens("bench:floor", now.date(), input_tokens=1, output_tokens=1)
        await s.commit()
    return first, time.perf_counter() - start


async def turn_once(
    factory: async_sessionmaker[AsyncSession],
    index: InMemoryVectorIndex,
    embedder: LexicalEmbedder,
    principal: Principal,
    conversation_id: str,
    question: str,
) -> tuple[float, float]:
    start = time.perf_counter()
    first: float | None = None
    async with factory() as s:
        turn = await send_message(s, index, embedder)(
            SendMessageCommand(principal=principal, conversation_id=conversation_id, content=question)
        )
        async for event in turn.events():
            if first is None:
                first = time.perf_counter() - start
            last = event
    assert isinstance(last, DoneEvent), last
    return first or 0.0, time.perf_counter() - start


def line(name: str, samples: Sequence[float]) -> str:
    p50, p99 = percentile(samples, 50) * 1000, percentile(samples, 99) * 1000
    return f"{name:<34} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--top-k", type=int, default=8)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        factory = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        print(f"building {args.chunks} chunks ...", flush=True)
        corpus = generate_corpus(args.chunks)
        embedder = LexicalEmbedder()
        index = InMemoryVectorIndex()
        await index.ensure_collection(VectorLayout.of(embedder))
        for start in range(0, len(corpus), 2000):
            await index.upsert(await embed_chunks(corpus[start : start + 2000], embedder))
        source_ids = sorted({c.source_id for c in corpus})
        user_id, chatbot_id = await seed(factory, source_ids, args.top_k)
        principal = Principal.user(user_id)
        scope = source_ids[:3]
        queries = [q.text for q in generate_queries(corpus, args.turns, sources_per_chatbot=3)]

        async with factory() as s:
            clock = SystemClock()
            opened = await OpenConversation(
                SqlAlchemyChatbotRepository(s),
                SqlAlchemyConversationRepository(s),
                SqlPurchaseLookup(s),
                MatrixAuthorizer(SqlRoleResolver(s)),
                clock,
                SqlAlchemyUnitOfWork(s),
            )(OpenConversationCommand(principal=principal, chatbot_id=chatbot_id))
        conversation_id = opened.conversation.id
        floor_id = new_id()
        async with engine.begin() as conn:
            await conn.execute(
                ConversationRow.__table__.insert().values(
                    id=floor_id,
                    chatbot_id=chatbot_id,
                    chatbot_version_id=opened.conversation.version_id,
                    user_id=user_id,
                    message_allowance=1,
                    messages_used=0,
                    expires_at=datetime.now(UTC) + timedelta(days=1),
                    status="ACTIVE",
                    input_tokens=0,
                    output_tokens=0,
                )
            )
        for question in queries[:20]:  # warm-up: imports, statement caches, connections
            await turn_once(factory, index, embedder, principal, conversation_id, question)
            await floor_once(factory, index, embedder, question, scope, args.top_k, floor_id)

        turn_first: list[float] = []
        turn_total: list[float] = []
        floor_first: list[float] = []
        floor_total: list[float] = []
        for question in queries:  # interleaved, so both see the same machine state
            first, total = await turn_once(factory, index, embedder, principal, conversation_id, question)
            turn_first.append(first)
            turn_total.append(total)
            first, total = await floor_once(factory, index, embedder, question, scope, args.top_k, floor_id)
            floor_first.append(first)
            floor_total.append(total)
        await engine.dispose()

    p50_turn, p50_floor = percentile(turn_total, 50), percentile(floor_total, 50)
    print(
        f"{args.chunks} chunks, {args.turns} turns, top_k {args.top_k}, SQLite file (WAL), zero-delay model"
    )
    print(line("chat turn (model excluded)", turn_total))
    print(line("floor: embed + search + 1 txn", floor_total))
    print(line("time to first byte: turn", turn_first))
    print(line("time to first byte: floor", floor_first))
    print(
        f"first-byte ratio: {percentile(turn_first, 50) / percentile(floor_first, 50):.2f}; "
        f"p50 turn {'meets' if p50_turn * 1000 < 15 else 'misses'} the 15 ms target"
    )
    print(f"ratio: {p50_turn / p50_floor:.2f} (target 2.0)")


if __name__ == "__main__":
    asyncio.run(main())
