"""In-memory conversations: the fake of ``application.conversations.ports.ConversationRepository``,
with the same guarded writes as the SQL adapter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapters.memory.catalogue import missing_reference, require_users
from adapters.memory.store import InMemorySession, copied
from application.conversations.ports import DEFAULT_PAGE, ConversationGuard, check_token_counts, page_size
from application.errors import Conflict
from domain.conversations import Conversation, ConversationStatus, MessageAllowance


class InMemoryConversationRepository:
    def __init__(self, session: InMemorySession) -> None:
        self._session = session

    async def add(self, conversation: Conversation) -> None:
        c = conversation
        async with self._session.atomic() as t:
            if c.id in t.conversations:
                raise Conflict("a conversation with this id exists", code="unique-violation")
            if c.chatbot_id not in t.chatbots:
                raise missing_reference("chatbot", c.chatbot_id)
            if c.version_id not in t.versions:
                raise missing_reference("chatbot version", c.version_id)
            if c.user_id is not None:
                require_users(t, c.user_id)
            t.conversations[c.id] = copied(c)

    async def get(self, conversation_id: str) -> Conversation | None:
        return copied((await self._session.tables()).conversations.get(conversation_id))

    async def get_for_update(self, conversation_id: str) -> Conversation | None:
        # The transaction holds the whole store already: nobody else can change the row.
        return await self.get(conversation_id)

    async def reserve_message(
        self, conversation_id: str, *, user_id: str | None, anonymous_id: str | None, at: datetime
    ) -> Conversation | None:
        async with self._session.atomic() as t:
            stored = t.conversations.get(conversation_id)
            if (
                stored is None
                or stored.status is not ConversationStatus.ACTIVE
                or stored.allowance.is_exhausted
                or stored.expires_at <= at
                or not _held_by(stored, user_id, anonymous_id)
            ):
                return None
            stored.allowance = MessageAllowance(stored.allowance.allowance, stored.messages_used + 1)
            if stored.allowance.is_exhausted:
                stored.status = ConversationStatus.COMPLETED
                stored.completed_at = stored.ended_at = at
            return copied(stored)

    async def save(self, conversation: Conversation, *, guard: ConversationGuard) -> bool:
        c = conversation
        async with self._session.atomic() as t:
            stored = t.conversations.get(c.id)
            if stored is None or ConversationGuard.of(stored) != guard:
                return False
            stored.status = c.status
            stored.allowance = MessageAllowance(stored.allowance.allowance, c.messages_used)
            stored.completed_at = c.completed_at
            stored.ended_at = c.ended_at
            stored.archived_at = c.archived_at
            stored.attributed_at = c.attributed_at
            return True

    async def add_tokens(self, conversation_id: str, *, input_tokens: int, output_tokens: int) -> bool:
        check_token_counts(input_tokens, output_tokens)
        async with self._session.atomic() as t:
            stored = t.conversations.get(conversation_id)
            if stored is None or stored.is_attributed:
                return False
            stored.input_tokens += input_tokens
            stored.output_tokens += output_tokens
            return True

    async def list_for_user(
        self, user_id: str, *, limit: int = DEFAULT_PAGE, before_id: str | None = None
    ) -> list[Conversation]:
        return await self._page(lambda c: c.user_id == user_id, limit=limit, before_id=before_id)

    async def list_for_anonymous(
        self, anonymous_id: str, *, limit: int = DEFAULT_PAGE, before_id: str | None = None
    ) -> list[Conversation]:
        return await self._page(lambda c: c.anonymous_id == anonymous_id, limit=limit, before_id=before_id)

    async def list_due_to_expire(self, now: datetime, *, limit: int = DEFAULT_PAGE) -> list[Conversation]:
        found = [
            c
            for c in (await self._session.tables()).conversations.values()
            if c.status is ConversationStatus.ACTIVE and c.expires_at <= now
        ]
        return [copied(c) for c in sorted(found, key=lambda c: (c.expires_at, c.id))[: page_size(limit)]]

    async def list_ended_unattributed(
        self, ended_before: datetime, *, limit: int = DEFAULT_PAGE
    ) -> list[Conversation]:
        found = [
            c
            for c in (await self._session.tables()).conversations.values()
            if c.ended_at is not None and c.ended_at < ended_before and c.attributed_at is None
        ]
        return [
            copied(c)
            for c in sorted(found, key=lambda c: (c.ended_at or ended_before, c.id))[: page_size(limit)]
        ]

    async def _page(
        self, owned: Callable[[Conversation], bool], *, limit: int, before_id: str | None
    ) -> list[Conversation]:
        found = [
            c
            for c in (await self._session.tables()).conversations.values()
            if owned(c) and (before_id is None or c.id < before_id)
        ]
        found.sort(key=lambda c: c.id, reverse=True)
        return [copied(c) for c in found[: page_size(limit)]]


def _held_by(conversation: Conversation, user_id: str | None, anonymous_id: str | None) -> bool:
    if conversation.user_id is not None:
        return user_id is not None and conversation.user_id == user_id
    return anonymous_id is not None and conversation.anonymous_id == anonymous_id
