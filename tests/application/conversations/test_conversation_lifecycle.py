"""Expiry sweep, archive, reading, listing and attached files, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.llm.scripted_model import ScriptedAnswerModel
from adapters.persistence.models import File
from application.conversations.archive_conversation import ArchiveConversationCommand
from application.conversations.attach_file import AttachFileCommand
from application.conversations.expire_conversations import ExpireConversationsCommand
from application.conversations.get_conversation import GetConversationQuery
from application.conversations.list_conversations import ListConversationsQuery
from application.conversations.open_conversation import OpenConversationCommand
from application.conversations.send_message import SendMessageCommand
from application.errors import Conflict, NotFound
from application.identity.principal import Principal
from domain.conversations import ConversationStatus
from domain.ids import new_id

if TYPE_CHECKING:
    from tests.application.conversations.chat_turn_rig import ChatRig
else:
    if "chat_turn_rig" not in sys.modules:
        _spec = importlib.util.spec_from_file_location(
            "chat_turn_rig", Path(__file__).with_name("chat_turn_rig.py")
        )
        assert _spec is not None
        assert _spec.loader is not None
        sys.modules["chat_turn_rig"] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules["chat_turn_rig"])
    ChatRig = sys.modules["chat_turn_rig"].ChatRig


@pytest.fixture
def rig(engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]) -> ChatRig:
    return ChatRig(engine, session_factory, ScriptedAnswerModel.replying("A purple cow is remarkable [1]."))


async def open_for(rig: ChatRig, principal: Principal, chatbot_id: str) -> str:
    async with rig.unit() as u:
        opened = await u.open(OpenConversationCommand(principal=principal, chatbot_id=chatbot_id))
    return str(opened.conversation.id)


async def test_the_sweep_expires_due_conversations_once_with_ended_at_at_expiry(rig: ChatRig) -> None:
    seeded = await rig.seed(expiry=timedelta(hours=1))
    user = Principal.user(seeded.user_id)
    early = await open_for(rig, user, seeded.chatbot_id)
    rig.clock.advance(timedelta(minutes=30))
    late = await open_for(rig, user, seeded.chatbot_id)
    rig.clock.advance(timedelta(minutes=45))
    async with rig.unit() as u:
        assert (await u.expire(ExpireConversationsCommand(batch_size=1))).expired == 1
        assert (await u.expire(ExpireConversationsCommand())).expired == 0
        swept = await u.conversations.get(early)
        still = await u.conversations.get(late)
    assert swept is not None
    assert still is not None
    assert swept.status is ConversationStatus.EXPIRED
    assert swept.ended_at == swept.expires_at
    assert still.status is ConversationStatus.ACTIVE


async def test_archive_ends_an_active_conversation_and_only_once(rig: ChatRig) -> None:
    seeded = await rig.seed()
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    stranger = Principal.user(await rig.add_user("stranger"))
    async with rig.unit() as u:
        with pytest.raises(NotFound):
            await u.archive(ArchiveConversationCommand(principal=stranger, conversation_id=conversation_id))
        archived = await u.archive(
            ArchiveConversationCommand(principal=user, conversation_id=conversation_id)
        )
        assert archived.status is ConversationStatus.ARCHIVED
        assert archived.ended_at is not None
        with pytest.raises(Conflict) as again:
            await u.archive(ArchiveConversationCommand(principal=user, conversation_id=conversation_id))
        assert again.value.code == "conversation-archived"
        with pytest.raises(Conflict) as closed:
            await u.send(SendMessageCommand(principal=user, conversation_id=conversation_id, content="cow?"))
        assert closed.value.code == "conversation-archived"


async def test_reading_pages_messages_and_applies_expiry(rig: ChatRig) -> None:
    seeded = await rig.seed(expiry=timedelta(hours=1))
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    for question in ("purple cow?", "remarkable?"):
        async with rig.unit() as u:
            turn = await u.send(
                SendMessageCommand(principal=user, conversation_id=conversation_id, content=question)
            )
            [event async for event in turn.events()]
    async with rig.unit() as u:
        first = await u.get(GetConversationQuery(principal=user, conversation_id=conversation_id, limit=3))
        assert [m.role for m in first.messages] == ["USER", "AI", "USER"]
        assert first.has_more
        rest = await u.get(
            GetConversationQuery(
                principal=user, conversation_id=conversation_id, after_message_id=first.messages[-1].id
            )
        )
        assert [m.role for m in rest.messages] == ["AI"]
        assert not rest.has_more
        assert rest.messages[0].attribution is not None
    rig.clock.advance(timedelta(hours=2))
    async with rig.unit() as u:
        view = await u.get(GetConversationQuery(principal=user, conversation_id=conversation_id))
        assert view.conversation.status is ConversationStatus.EXPIRED
        stored = await u.conversations.get(conversation_id)
        assert stored is not None
        assert stored.status is ConversationStatus.EXPIRED


async def test_lists_are_scoped_to_the_caller_and_paged(rig: ChatRig) -> None:
    seeded = await rig.seed()
    user = Principal.user(seeded.user_id)
    mine = [await open_for(rig, user, seeded.chatbot_id) for _ in range(3)]
    visitor = Principal.anonymous("anon-visitor")
    theirs = await open_for(rig, visitor, seeded.chatbot_id)
    async with rig.unit() as u:
        page = await u.list(ListConversationsQuery(principal=user, limit=2))
        assert [c.id for c in page.items] == mine[::-1][:2]
        assert page.next_before_id == mine[1]
        last = await u.list(ListConversationsQuery(principal=user, limit=2, before_id=page.next_before_id))
        assert [c.id for c in last.items] == [mine[0]]
        assert last.next_before_id is None
        anonymous = await u.list(ListConversationsQuery(principal=visitor))
        assert [c.id for c in anonymous.items] == [theirs]


async def test_attached_text_files_are_read_into_the_prompt(rig: ChatRig, engine: AsyncEngine) -> None:
    seeded = await rig.seed()
    user = Principal.user(seeded.user_id)
    conversation_id = await open_for(rig, user, seeded.chatbot_id)
    other = await rig.add_user("other")
    mine, theirs = new_id(), new_id()
    async with engine.begin() as conn:
        for file_id, owner in ((mine, seeded.user_id), (theirs, other)):
            await conn.execute(
                insert(File).values(
                    id=file_id,
                    owner_user_id=owner,
                    creator_id=seeded.creator_id,
                    blob_url=f"files/{file_id}",
                    file_name="notes.txt",
                    mime_type="text/plain",
                    size_bytes=40,
                    status="READY",
                    is_active=True,
                    chunk_count=0,
                    token_count=0,
                )
            )
    rig.blobs[f"files/{mine}"] = b"My shop sells purple socks to teenagers."
    async with rig.unit() as u:
        with pytest.raises(NotFound):
            await u.attach(AttachFileCommand(principal=user, conversation_id=conversation_id, file_id=theirs))
        await u.attach(AttachFileCommand(principal=user, conversation_id=conversation_id, file_id=mine))
        await u.attach(AttachFileCommand(principal=user, conversation_id=conversation_id, file_id=mine))
        with pytest.raises(NotFound):  # someone else's conversation is invisible
            await u.attach(
                AttachFileCommand(
                    principal=Principal.user(other), conversation_id=conversation_id, file_id=theirs
                )
            )
        turn = await u.send(
            SendMessageCommand(principal=user, conversation_id=conversation_id, content="cow?")
        )
        [event async for event in turn.events()]
    system = rig.model.requests[-1].system_prompt  # type: ignore[attr-defined]
    assert "purple socks to teenagers" in system
    assert system.count("notes.txt") == 1
