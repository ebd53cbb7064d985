"""Chat-turn overhead of the embedded default, beside a floor measured in the same run.

    python benchmarks/chat_turn.py                   # 20k indexed chunks, 300 turns
    python benchmarks/chat_turn.py --chunks 5000 --turns 100

What is timed: one whole chat turn as a request runs it, with a zero-delay streaming model (a
fixed answer through the citation parser every adapter uses), so everything measured is the
platform's own work. The use case comes out of the application's own container
(``entrypoints.di``), in a request scope, exactly as the HTTP route gets it: the database
session, the repositories, the vector index, the per-process version cache. Only the answer
model is replaced, by the scripted one. The database is a SQLite file (WAL), as the embedded default runs
it; the vectors are in the in-memory index, which is what answers the embedded default's
searches (``MirroredVectorIndex`` searches its in-memory mirror; the durable copy on disk is
only written by ingestion). A turn: the guarded reservation that also reads the conversation,
the version's config, the query embedding and the search over the chatbot's sources, the one
read of the history, the user's context, attached files and the hits' searchable files and
owners, the prompt, streaming, and the one transaction recording both messages, source usage,
token counts, the call's cost and the daily tokens.

The floor, measured in the same process on the same data: one query embedding, one raw vector
search and one transaction writing the same rows (two messages, the answer's with the same
``attribution`` and ``context`` documents its hits make, the source usage upsert, the
conversation's token counts, the call's cost, the daily tokens upsert) with plain Core
statements built once, the cheapest way this stack writes them. Time to the first streamed byte
is reported the same way (floor: embedding plus search, since no answer can start before the
passages are found). The last line is ``ratio: X (target 2.0)``: p50 turn / p50 floor.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "src")]

from benchmarks.retrieval import embed_chunks, generate_corpus, generate_queries, percentile  # noqa: E402
from dishka import AsyncContainer, Provider, Scope, provide  # noqa: E402
from sqlalchemy import bindparam, insert, update  # noqa: E402
from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker  # noqa: E402

from adapters.clock import SystemClock  # noqa: E402
from adapters.llm._common import AnswerAssembler  # noqa: E402
from adapters.persistence.migrate import upgrade  # noqa: E402
from adapters.persistence.models import (  # noqa: E402
    AiCallCost,
    ConversationSourceUsage,
    DailyTokenUsage,
    File,
    Message,
)
from adapters.persistence.models import Conversation as ConversationRow  # noqa: E402
from adapters.persistence.repositories import (  # noqa: E402
    SqlAlchemyChatbotRepository,
    SqlAlchemyConversationRepository,
    SqlAlchemyCreatorRepository,
    SqlAlchemySourceRepository,
    SqlAlchemyUserRepository,
)
from adapters.persistence.repositories.chat import SqlPurchaseLookup  # noqa: E402
from adapters.persistence.repositories.roles import SqlRoleResolver  # noqa: E402
from adapters.persistence.uow import SqlAlchemyUnitOfWork  # noqa: E402
from application.chat.model_port import AnswerEvent, AnswerModel, AnswerRequest, StopReason, Usage  # noqa: E402
from application.conversations import turn_building  # noqa: E402
from application.conversations.open_conversation import OpenConversation, OpenConversationCommand  # noqa: E402
from application.conversations.send_message import SendMessage, SendMessageCommand  # noqa: E402
from application.conversations.turn_events import DoneEvent  # noqa: E402
from application.identity.authorizer import MatrixAuthorizer  # noqa: E402
from application.identity.principal import Principal  # noqa: E402
from application.retrieval.ports import Embedder, VectorIndex, VectorLayout  # noqa: E402
from domain.catalogue import Creator, Source, SourceType, User  # noqa: E402
from domain.chatbots import Chatbot, ChatbotConfig, ChatbotType, RagSettings, VersionHistory  # noqa: E402
from domain.ids import new_id  # noqa: E402
from domain.money import Money  # noqa: E402
from domain.roles import ChatbotOwnerRole, ChatbotOwners, CreatorMembers, CreatorRole  # noqa: E402
from domain.shares import ShareSet  # noqa: E402
from domain.slug import Slug  # noqa: E402
from entrypoints.di import build_container  # noqa: E402
from entrypoints.settings import load_settings  # noqa: E402

ANSWER = ("The passages ", "say it plainly [1]. ", "And again here [2].")


class ZeroDelayAnswerModel:
    """Streams a fixed answer at once, through the citation parser every real adapter uses
    (``AnswerAssembler``), and reports usage as a provider does. Unlike ``ScriptedAnswerModel``
    (made for tests) it keeps no copy of each request and does not tokenize the prompt to fake
    the provider's input count: that work happens at the provider, not in the platform."""

    provider = "scripted"
    default_model = "scripted"

    async def stream(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        assembler = AnswerAssembler(request)
        for delta in ANSWER:
            for event in assembler.text(delta):
                yield event
        usage = Usage(
            provider="scripted", model=request.model or "scripted", input_tokens=900, output_tokens=12
        )
        for final in assembler.finish(usage, StopReason.COMPLETE):
            yield final


class ZeroDelayModel(Provider):
    """The one replacement in the container: an answer model that streams at once."""

    @provide(scope=Scope.APP, override=True)
    def model(self) -> AnswerModel:
        return ZeroDelayAnswerModel()


async def seed(
    factory: async_sessionmaker[AsyncSession],
    source_ids: Sequence[str],
    file_ids: Sequence[tuple[str, str]],
    top_k: int,
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
        # The files as ingestion leaves them (active, READY): answers only search those.
        for source_id, file_id in file_ids:
            s.add(
                File(
                    id=file_id, source_id=source_id, owner_user_id=user.id, creator_id=creator.id,
                    blob_url=f"bench/{file_id}", file_name=f"{file_id}.md", mime_type="text/markdown",
                    size_bytes=1, status="READY", is_active=True,
                )
            )  # fmt: skip
        await s.commit()
    return user.id, chatbot_id


# The floor's writes: the rows a turn records, as plain Core statements built once.
_FLOOR_MESSAGES = insert(Message.__table__)
_FLOOR_COST = insert(AiCallCost.__table__)
_FLOOR_TOKENS = (
    update(ConversationRow.__table__)
    .where(ConversationRow.__table__.c.id == bindparam("conversation_id"))
    .values(input_tokens=ConversationRow.__table__.c.input_tokens + bindparam("tokens"))
)
_usage = sqlite_insert(ConversationSourceUsage.__table__)
_FLOOR_USAGE = _usage.on_conflict_do_update(
    index_elements=["conversation_id", "source_id"],
    set_={
        "total_tokens": ConversationSourceUsage.__table__.c.total_tokens + _usage.excluded.total_tokens,
        "message_count": ConversationSourceUsage.__table__.c.message_count + 1,
        "last_used_at": _usage.excluded.last_used_at,
    },
)
_daily = sqlite_insert(DailyTokenUsage.__table__)
_FLOOR_DAILY = _daily.on_conflict_do_update(
    index_elements=["subject", "day"],
    set_={
        "input_tokens": DailyTokenUsage.__table__.c.input_tokens + _daily.excluded.input_tokens,
        "output_tokens": DailyTokenUsage.__table__.c.output_tokens + _daily.excluded.output_tokens,
    },
)


async def floor_once(
    engine: AsyncEngine,
    index: VectorIndex,
    embedder: Embedder,
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
    totals: dict[str, int] = {}
    for hit in hits:
        totals[hit.source_id] = totals.get(hit.source_id, 0) + hit.token_count
    # The answer's row carries the same documents as a turn's (what its hits make of them):
    # writing the same rows means writing those too.
    documents = {
        "attribution": turn_building.attribution(hits, {}, (), "scripted"),
        "context": turn_building.generation_context(hits, (), (), top_k=top_k, source_count=len(source_ids)),
    }
    async with engine.begin() as conn:
        message: dict[str, Any] = {"conversation_id": conversation_id, "content": question, "token_count": 9}
        await conn.execute(
            _FLOOR_MESSAGES,
            [
                {**message, "id": new_id(), "role": "USER", "created_at": now, "updated_at": now,
                 "attribution": None, "context": None},
                {**message, "id": new_id(), "role": "AI", "created_at": now, "updated_at": now, **documents},
            ],
        )  # fmt: skip
        if totals:
            await conn.execute(
                _FLOOR_USAGE,
                [
                    {
                        "id": new_id(), "conversation_id": conversation_id, "source_id": source_id,
                        "total_tokens": tokens, "message_count": 1, "first_used_at": now,
                        "last_used_at": now, "created_at": now, "updated_at": now,
                    }
                    for source_id, tokens in totals.items()
                ],
            )  # fmt: skip
        await conn.execute(_FLOOR_TOKENS, {"conversation_id": conversation_id, "tokens": 1})
        await conn.execute(
            _FLOOR_COST,
            {
                "id": new_id(), "conversation_id": conversation_id, "purpose": "answer",
                "provider": "scripted", "model": "scripted", "input_tokens": 1, "output_tokens": 1,
                "cost_micros": 0, "currency": "USD", "created_at": now,
            },
        )  # fmt: skip
        await conn.execute(
            _FLOOR_DAILY,
            {
                "id": new_id(), "subject": "bench:floor", "day": now.date(), "input_tokens": 1,
                "output_tokens": 1, "updated_at": now,
            },
        )  # fmt: skip
    return first, time.perf_counter() - start


async def turn_once(
    container: AsyncContainer, principal: Principal, conversation_id: str, question: str
) -> tuple[float, float]:
    start = time.perf_counter()
    first: float | None = None
    async with container() as request:  # one request scope, as an HTTP request has
        send = await request.get(SendMessage)
        turn = await send(
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
        settings = load_settings({}, data_dir=Path(tmp), vector_backend="memory", log_format="console")
        await upgrade(settings.effective_database_url)
        container = build_container(settings, ZeroDelayModel())
        engine = await container.get(AsyncEngine)
        factory = await container.get(async_sessionmaker[AsyncSession])
        embedder = await container.get(Embedder)
        index = await container.get(VectorIndex)
        print(f"building {args.chunks} chunks ...", flush=True)
        corpus = generate_corpus(args.chunks)
        await index.ensure_collection(VectorLayout.of(embedder))
        for start in range(0, len(corpus), 2000):
            await index.upsert(await embed_chunks(corpus[start : start + 2000], embedder))  # type: ignore[arg-type]
        source_ids = sorted({c.source_id for c in corpus})
        file_ids = sorted({(c.source_id, c.file_id) for c in corpus})
        user_id, chatbot_id = await seed(factory, source_ids, file_ids, args.top_k)
        principal = Principal.user(user_id)
        scope = source_ids[:3]
        queries = [q.text for q in generate_queries(corpus, args.turns, sources_per_chatbot=3)]

        async with factory() as s:
            opened = await OpenConversation(
                SqlAlchemyChatbotRepository(s),
                SqlAlchemyConversationRepository(s),
                SqlPurchaseLookup(s),
                MatrixAuthorizer(SqlRoleResolver(s)),
                SystemClock(),
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
            await turn_once(container, principal, conversation_id, question)
            await floor_once(engine, index, embedder, question, scope, args.top_k, floor_id)

        turn_first: list[float] = []
        turn_total: list[float] = []
        floor_first: list[float] = []
        floor_total: list[float] = []
        for question in queries:  # interleaved, so both see the same machine state
            first, total = await turn_once(container, principal, conversation_id, question)
            turn_first.append(first)
            turn_total.append(total)
            first, total = await floor_once(engine, index, embedder, question, scope, args.top_k, floor_id)
            floor_first.append(first)
            floor_total.append(total)
        await container.close()

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
