"""In-memory ``ChatLog``: the fake of ``application.conversations.chat_ports.ChatLog``.

Its rows live in an ``InMemoryChatData`` shared by the sessions of one test. Writes are made while
holding the store's transaction (so concurrent writers run one after another and counters add
up, as the SQL upserts do); unlike the foundation fakes, a rollback does not undo them, because
the store's snapshot covers only its own tables. The chat writes its rows only in the
transaction that commits an answer, so nothing relies on rolling them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from adapters.memory.store import InMemorySession
from application.conversations.chat_ports import (
    AiCall,
    NewMessage,
    SourceUsage,
    SourceUsageTotal,
    StoredMessage,
)
from domain.conversations import ConversationStatus, MessageAllowance


@dataclass
class InMemoryChatData:
    messages: dict[str, list[StoredMessage]] = field(default_factory=dict)
    usage: dict[tuple[str, str], SourceUsageTotal] = field(default_factory=dict)
    calls: list[AiCall] = field(default_factory=list)
    daily: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.messages or self.usage or self.calls or self.daily)


class InMemoryChatLog:
    def __init__(self, session: InMemorySession, data: InMemoryChatData) -> None:
        self._session = session
        self._data = data

    async def recent_messages(self, conversation_id: str, *, limit: int) -> list[StoredMessage]:
        await self._session.tables()
        stored = sorted(self._data.messages.get(conversation_id, []), key=lambda m: (m.created_at, m.id))
        return [replace(m, attribution=None, context=None) for m in stored[-max(1, limit) :]]

    async def messages_page(
        self, conversation_id: str, *, limit: int, after_id: str | None = None
    ) -> list[StoredMessage]:
        await self._session.tables()
        found = [
            m for m in self._data.messages.get(conversation_id, []) if after_id is None or m.id > after_id
        ]
        return found[: max(1, limit)]

    async def add_messages(self, conversation_id: str, messages: Sequence[NewMessage]) -> None:
        async with self._session.atomic():
            stored = self._data.messages.setdefault(conversation_id, [])
            for m in messages:
                stored.append(
                    StoredMessage(
                        id=m.id,
                        conversation_id=conversation_id,
                        role=m.role,
                        content=m.content,
                        token_count=m.token_count,
                        created_at=m.created_at or datetime.now(UTC),
                        attribution=m.attribution,
                        context=m.context,
                    )
                )
            stored.sort(key=lambda m: m.id)

    async def record_source_usage(
        self, conversation_id: str, usages: Sequence[SourceUsage], *, at: datetime
    ) -> None:
        async with self._session.atomic():
            for usage in usages:
                key = (conversation_id, usage.source_id)
                row = self._data.usage.get(key)
                if row is None:
                    self._data.usage[key] = SourceUsageTotal(
                        source_id=usage.source_id,
                        total_tokens=usage.tokens,
                        message_count=1,
                        first_used_at=at,
                        last_used_at=at,
                    )
                else:
                    self._data.usage[key] = replace(
                        row,
                        total_tokens=row.total_tokens + usage.tokens,
                        message_count=row.message_count + 1,
                        last_used_at=at,
                    )

    async def source_usage(self, conversation_id: str) -> list[SourceUsageTotal]:
        await self._session.tables()
        rows = [row for (cid, _), row in self._data.usage.items() if cid == conversation_id]
        return sorted(rows, key=lambda row: row.source_id)

    async def record_ai_call(self, call: AiCall) -> None:
        async with self._session.atomic():
            self._data.calls.append(call)

    async def add_daily_tokens(
        self, subject: str, day: date, *, input_tokens: int, output_tokens: int
    ) -> None:
        async with self._session.atomic():
            before = self._data.daily.get((subject, day), (0, 0))
            self._data.daily[(subject, day)] = (before[0] + input_tokens, before[1] + output_tokens)

    async def daily_tokens(self, subject: str, day: date) -> int:
        await self._session.tables()
        return sum(self._data.daily.get((subject, day), (0, 0)))

    async def release_message(self, conversation_id: str, *, reserved_used: int) -> bool:
        async with self._session.atomic() as t:
            stored = t.conversations.get(conversation_id)
            if (
                stored is None
                or reserved_used < 1
                or stored.messages_used != reserved_used
                or stored.is_attributed
                or stored.status not in (ConversationStatus.ACTIVE, ConversationStatus.COMPLETED)
            ):
                return False
            stored.allowance = MessageAllowance(stored.allowance.allowance, reserved_used - 1)
            if stored.status is ConversationStatus.COMPLETED:
                stored.status = ConversationStatus.ACTIVE
                stored.completed_at = stored.ended_at = None
            return True
