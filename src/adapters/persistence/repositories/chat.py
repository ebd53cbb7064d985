"""The chat's tables over SQLAlchemy: messages, source usage, AI call costs, daily token usage,
user context, conversation files, the sources a turn draws on and purchases a conversation
opens from (``application.conversations.chat_ports``).

Counters (source usage, daily tokens) are written with one ``INSERT ... ON CONFLICT DO UPDATE``
that adds to the stored value, so two answers finishing at once both count and neither
overwrites the other; both databases support it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import (
    AiCallCost,
    ChatbotCreator,
    ConversationFile,
    ConversationSourceUsage,
    Creator,
    DailyTokenUsage,
    File,
    Message,
    Purchase,
    Source,
    SourceCreator,
    UserContext,
)
from adapters.persistence.models import Conversation as ConversationRow
from adapters.persistence.repositories._support import atomic, execute_update
from adapters.persistence.types import UTCDateTime
from application.conversations.chat_ports import (
    AiCall,
    AttachedFile,
    ContextEntry,
    MessageRole,
    NewMessage,
    PurchaseInfo,
    SourceOwners,
    SourceUsage,
    SourceUsageTotal,
    StoredMessage,
)
from application.errors import NotFound
from domain.ids import new_id

BlobReader = Callable[[str], Awaitable[bytes]]
_TEXT_TYPES = ("text/", "application/json", "application/x-ndjson")
_MAX_FILE_BYTES = 512 * 1024


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _stored(row: Message) -> StoredMessage:
    role: MessageRole = row.role.value
    return StoredMessage(
        id=row.id,
        conversation_id=row.conversation_id,
        role=role,
        content=row.content,
        token_count=row.token_count,
        created_at=row.created_at,
        attribution=row.attribution,
        context=row.context,
    )


class SqlChatLog:
    """``ChatLog``: the transcript and the ledger rows one answer writes."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def recent_messages(self, conversation_id: str, *, limit: int) -> list[StoredMessage]:
        rows = await self._session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(max(1, limit))
        )
        return [_stored(row) for row in reversed(list(rows))]

    async def messages_page(
        self, conversation_id: str, *, limit: int, after_id: str | None = None
    ) -> list[StoredMessage]:
        query = select(Message).where(Message.conversation_id == conversation_id)
        if after_id is not None:
            query = query.where(Message.id > after_id)
        rows = await self._session.scalars(query.order_by(Message.id).limit(max(1, limit)))
        return [_stored(row) for row in rows]

    async def add_messages(self, conversation_id: str, messages: Sequence[NewMessage]) -> None:
        for message in messages:
            values: dict[str, Any] = {
                "id": message.id,
                "conversation_id": conversation_id,
                "role": enums.MessageRole(message.role),
                "content": message.content,
                "token_count": message.token_count,
                "sender_user_id": message.sender_user_id,
                "attribution": dict(message.attribution) if message.attribution is not None else None,
                "context": dict(message.context) if message.context is not None else None,
            }
            if message.created_at is not None:
                values["created_at"] = values["updated_at"] = message.created_at
            self._session.add(Message(**values))

    async def record_source_usage(
        self, conversation_id: str, usages: Sequence[SourceUsage], *, at: datetime
    ) -> None:
        if not usages:
            return
        table = ConversationSourceUsage.__table__
        # One statement for every source of the answer (one round trip, whatever the count).
        statement = _insert(self._session, table).values(
            [
                {
                    "id": new_id(),
                    "conversation_id": conversation_id,
                    "source_id": usage.source_id,
                    "total_tokens": usage.tokens,
                    "message_count": 1,
                    "first_used_at": at,
                    "last_used_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
                for usage in usages
            ]
        )
        excluded = statement.excluded
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["conversation_id", "source_id"],
                set_={
                    "total_tokens": table.c.total_tokens + excluded.total_tokens,
                    "message_count": table.c.message_count + 1,
                    "last_used_at": excluded.last_used_at,
                    "updated_at": excluded.updated_at,
                },
            )
        )

    async def source_usage(self, conversation_id: str) -> list[SourceUsageTotal]:
        rows = await self._session.execute(
            select(
                ConversationSourceUsage.source_id,
                ConversationSourceUsage.total_tokens,
                ConversationSourceUsage.message_count,
                ConversationSourceUsage.first_used_at,
                ConversationSourceUsage.last_used_at,
            )
            .where(ConversationSourceUsage.conversation_id == conversation_id)
            .order_by(ConversationSourceUsage.source_id)
        )
        return [
            SourceUsageTotal(
                source_id=source_id,
                total_tokens=tokens,
                message_count=count,
                first_used_at=first,
                last_used_at=last,
            )
            for source_id, tokens, count, first, last in rows
        ]

    async def record_ai_call(self, call: AiCall) -> None:
        self._session.add(
            AiCallCost(
                id=new_id(),
                message_id=call.message_id,
                conversation_id=call.conversation_id,
                purpose=call.purpose,
                provider=call.provider,
                model=call.model,
                input_tokens=call.input_tokens,
                output_tokens=call.output_tokens,
                cost_micros=call.cost_micros,
                currency=call.currency,
            )
        )

    async def add_daily_tokens(
        self, subject: str, day: date, *, input_tokens: int, output_tokens: int
    ) -> None:
        table = DailyTokenUsage.__table__
        statement = _insert(self._session, table).values(
            id=new_id(), subject=subject, day=day, input_tokens=input_tokens, output_tokens=output_tokens
        )
        excluded = statement.excluded
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["subject", "day"],
                set_={
                    "input_tokens": table.c.input_tokens + excluded.input_tokens,
                    "output_tokens": table.c.output_tokens + excluded.output_tokens,
                },
            )
        )

    async def daily_tokens(self, subject: str, day: date) -> int:
        total = await self._session.scalar(
            select(DailyTokenUsage.input_tokens + DailyTokenUsage.output_tokens).where(
                DailyTokenUsage.subject == subject, DailyTokenUsage.day == day
            )
        )
        return int(total or 0)

    async def release_message(self, conversation_id: str, *, reserved_used: int) -> bool:
        if reserved_used < 1:
            return False
        row = ConversationRow
        completed = enums.ConversationStatus.COMPLETED
        active = enums.ConversationStatus.ACTIVE
        was_completed = row.status == completed
        statement = (
            update(row)
            .where(
                row.id == conversation_id,
                row.messages_used == reserved_used,
                row.attributed_at.is_(None),
                row.status.in_([active, completed]),
            )
            .values(
                messages_used=row.messages_used - 1,
                status=case((was_completed, literal(active.value)), else_=row.status),
                completed_at=case((was_completed, None), else_=row.completed_at),
                ended_at=case((was_completed, None), else_=row.ended_at),
            )
        )
        return await execute_update(self._session, statement) == 1


class SqlUserKnowledge:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def visible_context(self, user_id: str, chatbot_id: str, *, now: datetime) -> list[ContextEntry]:
        rows = await self._session.scalars(
            select(UserContext)
            .where(
                UserContext.user_id == user_id,
                UserContext.is_visible.is_(True),
                or_(UserContext.chatbot_id.is_(None), UserContext.chatbot_id == chatbot_id),
                or_(UserContext.expires_at.is_(None), UserContext.expires_at > literal(now, UTCDateTime())),
            )
            .order_by(UserContext.key)
        )
        entries: dict[str, ContextEntry] = {}
        for row in rows:
            if row.key in entries and row.chatbot_id is None:
                continue  # this chatbot's entry wins over the global one
            entries[row.key] = ContextEntry(
                key=row.key, value=row.value, source=row.source.value, chatbot_id=row.chatbot_id
            )
        return list(entries.values())


class SqlConversationFiles:
    """Attached files; text files are read through ``read_blob`` (keyed by ``blob_url``)."""

    def __init__(self, session: AsyncSession, read_blob: BlobReader | None = None) -> None:
        self._session = session
        self._read_blob = read_blob

    async def attach(self, conversation_id: str, file_id: str, *, owner_user_id: str) -> None:
        owned = await self._session.scalar(
            select(File.id).where(
                File.id == file_id, File.owner_user_id == owner_user_id, File.source_id.is_(None)
            )
        )
        if owned is None:
            raise NotFound("file not found", code="file-not-found")
        statement = (
            _insert(self._session, ConversationFile.__table__)
            .values(id=new_id(), conversation_id=conversation_id, file_id=file_id)
            .on_conflict_do_nothing(index_elements=["conversation_id", "file_id"])
        )
        async with atomic(self._session):
            await self._session.execute(statement)

    async def attached(self, conversation_id: str) -> list[AttachedFile]:
        rows = await self._session.execute(
            select(File.id, File.file_name, File.mime_type, File.blob_url, File.size_bytes)
            .join(ConversationFile, ConversationFile.file_id == File.id)
            .where(ConversationFile.conversation_id == conversation_id)
            .order_by(ConversationFile.created_at, File.id)
        )
        files: list[AttachedFile] = []
        for file_id, name, mime, blob, size in rows:
            text = None
            if self._read_blob is not None and mime.startswith(_TEXT_TYPES) and size <= _MAX_FILE_BYTES:
                try:
                    text = (await self._read_blob(blob)).decode("utf-8", errors="replace")
                except NotFound:
                    text = None
            files.append(AttachedFile(file_id=file_id, file_name=name, mime_type=mime, text=text))
        return files


class SqlSourceDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def owners(self, source_ids: Sequence[str]) -> dict[str, SourceOwners]:
        if not source_ids:
            return {}
        rows = await self._session.execute(
            select(
                Source.id, Source.title, SourceCreator.creator_id, Creator.name, SourceCreator.revenue_share
            )
            .join(SourceCreator, SourceCreator.source_id == Source.id, isouter=True)
            .join(Creator, Creator.id == SourceCreator.creator_id, isouter=True)
            .where(Source.id.in_(list(source_ids)))
        )
        grouped: dict[str, list[Any]] = {}
        titles: dict[str, str] = {}
        for source_id, title, creator_id, name, share in rows:
            titles[source_id] = title
            if creator_id is not None:
                grouped.setdefault(source_id, []).append((-(share or 0), creator_id, name))
        result: dict[str, SourceOwners] = {}
        for source_id, title in titles.items():
            creators = sorted(grouped.get(source_id, []))
            result[source_id] = SourceOwners(
                source_id=source_id,
                title=title,
                creator_ids=tuple(c[1] for c in creators),
                creator_name=creators[0][2] if creators else None,
            )
        return result

    async def creator_source_ids(self, chatbot_id: str) -> list[str]:
        rows = await self._session.scalars(
            select(SourceCreator.source_id)
            .join(ChatbotCreator, ChatbotCreator.creator_id == SourceCreator.creator_id)
            .where(ChatbotCreator.chatbot_id == chatbot_id)
            .distinct()
        )
        return sorted(rows)


class SqlPurchaseLookup:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, purchase_id: str) -> PurchaseInfo | None:
        row = await self._session.get(Purchase, purchase_id)
        if row is None:
            return None
        return PurchaseInfo(
            id=row.id,
            purchaser_user_id=row.purchaser_user_id,
            chatbot_id=row.chatbot_id,
            status=row.status.value,
        )

    async def conversation_of(self, purchase_id: str) -> str | None:
        return await self._session.scalar(
            select(ConversationRow.id)
            .where(and_(ConversationRow.purchase_id == purchase_id))
            .order_by(ConversationRow.id)
            .limit(1)
        )
