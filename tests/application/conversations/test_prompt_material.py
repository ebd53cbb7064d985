"""The one-statement prompt read (history, user context, attached files, the passages' searchable
files and source owners) against the five ports it replaces on a chat turn, on SQLite and
PostgreSQL: same content, same order."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.llm.scripted_model import ScriptedAnswerModel
from adapters.persistence.models import ConversationFile, File, SourceCreator, UserContext
from adapters.persistence.repositories.chat import (
    SqlChatLog,
    SqlConversationFiles,
    SqlPromptReader,
    SqlSourceDirectory,
    SqlUserKnowledge,
)
from adapters.persistence.repositories.ingestion import SqlAlchemyIngestionStore
from application.conversations.chat_ports import NewMessage, PromptMaterial, SeparatePromptReads
from application.conversations.open_conversation import OpenConversationCommand
from application.errors import NotFound
from application.identity.principal import Principal
from domain.ids import new_id

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


@pytest.fixture
def rig(engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]) -> ChatRig:
    return ChatRig(engine, session_factory, ScriptedAnswerModel(("Fine.",)))


async def open_for(rig: ChatRig, principal: Principal, chatbot_id: str) -> str:
    async with rig.unit() as u:
        opened = await u.open(OpenConversationCommand(principal=principal, chatbot_id=chatbot_id))
    return str(opened.conversation.id)


async def both_reads(
    rig: ChatRig,
    conversation_id: str,
    user_id: str | None,
    chatbot_id: str,
    *,
    source_ids: Collection[str] = (),
) -> PromptMaterial:
    now = rig.clock.now()

    async def read_blob(key: str) -> bytes:  # as the blob stores do: NotFound when it is gone
        if key not in rig.blobs:
            raise NotFound("no such blob", code="blob-not-found")
        return rig.blobs[key]

    asked: dict[str, Any] = {
        "user_id": user_id,
        "chatbot_id": chatbot_id,
        "now": now,
        "history_limit": 5,
        "passage_source_ids": source_ids,
    }
    async with rig.factory() as s:
        one = await SqlPromptReader(s, read_blob).prompt_material(conversation_id, **asked)
        separate = await SeparatePromptReads(
            SqlChatLog(s),
            SqlUserKnowledge(s),
            SqlConversationFiles(s, read_blob),
            SqlSourceDirectory(s),
            SqlAlchemyIngestionStore(s),
        ).prompt_material(conversation_id, **asked)
    assert one == separate
    return one


def context_row(user_id: str, chatbot_id: str | None, key: str, now: Any, **values: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "user_id": user_id,
        "chatbot_id": chatbot_id,
        "key": key,
        "value": {"said": f"{key} for {'bot' if chatbot_id else 'all'}"},
        "source": "USER_PROVIDED",
        "is_visible": True,
        "is_editable": True,
        "expires_at": None,
        "created_at": now,
        "updated_at": now,
        **values,
    }


def file_row(file_id: str, owner: str, creator: str, mime: str, size: int) -> dict[str, Any]:
    return {
        "id": file_id,
        "owner_user_id": owner,
        "creator_id": creator,
        "blob_url": f"files/{file_id}",
        "file_name": f"{file_id[-4:]}.{mime.split('/')[-1]}",
        "mime_type": mime,
        "size_bytes": size,
        "status": "READY",
        "is_active": True,
    }


async def test_one_statement_reads_what_the_three_ports_read(rig: ChatRig, engine: AsyncEngine) -> None:
    seeded = await rig.seed()
    other_bot = await rig.seed(slug="other")
    reader = await rig.add_user("reader")
    conversation_id = await open_for(rig, Principal.user(reader), seeded.chatbot_id)
    now = rig.clock.now()
    text_file, binary_file, large_file, gone_file = new_id(), new_id(), new_id(), new_id()
    async with engine.begin() as conn:
        await conn.execute(
            insert(UserContext),
            [
                context_row(reader, None, "industry", now),
                context_row(reader, seeded.chatbot_id, "industry", now),  # wins over the global one
                context_row(reader, None, "goal", now),
                context_row(reader, other_bot.chatbot_id, "budget", now),  # another chatbot's
                context_row(reader, None, "hidden", now, is_visible=False),
                context_row(reader, None, "stale", now, expires_at=now - timedelta(days=1)),
                context_row(reader, None, "soon", now, expires_at=now + timedelta(days=1)),
            ],
        )
        await conn.execute(
            insert(File),
            [
                file_row(text_file, reader, seeded.creator_id, "text/plain", 40),
                file_row(binary_file, reader, seeded.creator_id, "application/pdf", 40),
                file_row(large_file, reader, seeded.creator_id, "text/plain", 10_000_000),
                file_row(gone_file, reader, seeded.creator_id, "text/markdown", 10),
            ],
        )
        for n, file_id in enumerate((text_file, binary_file, large_file, gone_file)):
            await conn.execute(
                insert(ConversationFile).values(
                    id=new_id(),
                    conversation_id=conversation_id,
                    file_id=file_id,
                    created_at=now + timedelta(n),
                )
            )
    rig.blobs[f"files/{text_file}"] = b"My shop sells purple socks."
    rig.blobs[f"files/{binary_file}"] = b"%PDF"
    messages = [
        NewMessage(
            id=new_id(),
            role="USER" if n % 2 == 0 else "AI",
            content=f"message {n}",
            token_count=n + 1,
            attribution={"model": "m"} if n % 2 else None,
            context={"chunks": []} if n % 2 else None,
            created_at=now + timedelta(minutes=n // 2),  # a turn's two messages share a time
        )
        for n in range(8)
    ]
    async with rig.unit() as u:
        await u.chat_log.add_messages(conversation_id, messages)
        await u.uow.commit()

    material = await both_reads(rig, conversation_id, reader, seeded.chatbot_id)
    assert [(m.role, m.content, m.token_count) for m in material.history] == [
        (m.role, m.content, m.token_count) for m in messages[-5:]
    ]
    assert {m.created_at for m in material.history} <= {m.created_at for m in messages}
    assert [(e.key, e.value["said"], e.chatbot_id) for e in material.user_context] == [
        ("goal", "goal for all", None),
        ("industry", "industry for bot", seeded.chatbot_id),
        ("soon", "soon for all", None),
    ]
    assert [e.source for e in material.user_context] == ["USER_PROVIDED"] * 3
    assert [(f.file_id, f.text) for f in material.files] == [
        (text_file, "My shop sells purple socks."),
        (binary_file, None),  # not text
        (large_file, None),  # too large to read into a prompt
        (gone_file, None),  # its blob is gone
    ]

    # An anonymous visitor's conversation has no user context; an empty one has nothing at all.
    visitor = await open_for(rig, Principal.anonymous("anon-1"), seeded.chatbot_id)
    empty = await both_reads(rig, visitor, None, seeded.chatbot_id)
    assert empty == PromptMaterial(history=[], user_context=[], files=[])


async def test_the_passages_facts_come_with_the_material(rig: ChatRig, engine: AsyncEngine) -> None:
    seeded = await rig.seed(sources=2)
    reader = await rig.add_user("reader")
    conversation_id = await open_for(rig, Principal.user(reader), seeded.chatbot_id)
    first, second = seeded.source_ids
    co_creator = await rig.add_creator("co-author")
    processing, retired = new_id(), new_id()
    async with engine.begin() as conn:
        # the second source is shared: 40% to the seed's creator, 60% to the co-author
        await conn.execute(
            update(SourceCreator)
            .where(SourceCreator.source_id == second)
            .values(revenue_share=Decimal("0.4"))
        )
        await conn.execute(
            insert(SourceCreator).values(
                id=new_id(),
                source_id=second,
                creator_id=co_creator,
                added_by_user_id=seeded.user_id,
                revenue_share=Decimal("0.6"),
            )
        )
        await conn.execute(
            insert(File),
            [
                {**file_row(processing, reader, seeded.creator_id, "text/plain", 1), "status": "PROCESSING"},
                {**file_row(retired, reader, seeded.creator_id, "text/plain", 1), "is_active": False},
            ],
        )
        await conn.execute(update(File).where(File.id.in_([processing, retired])).values(source_id=first))
    unknown_source = new_id()
    material = await both_reads(
        rig,
        conversation_id,
        reader,
        seeded.chatbot_id,
        source_ids=[first, second, unknown_source],
    )
    # only active READY files answer: not one being ingested, not one replaced
    assert material.searchable_file_ids == frozenset(seeded.file_ids)
    assert set(material.owners) == {first, second}  # an unknown source has no owners
    assert material.owners[first].creator_ids == (seeded.creator_id,)
    assert material.owners[second].creator_ids == (co_creator, seeded.creator_id)  # largest share first
    assert material.owners[second].creator_name == "Co Author"
    assert material.owners[second].title == "Book 2"

    # only the sources asked about
    only_first = await both_reads(rig, conversation_id, reader, seeded.chatbot_id, source_ids=[first])
    assert only_first.searchable_file_ids == frozenset(seeded.file_ids[:1])
    assert set(only_first.owners) == {first}
