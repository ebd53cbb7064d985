"""The chat's tables over SQLAlchemy: messages, source usage, AI call costs, daily token usage,
user context, conversation files, the sources a turn draws on and purchases a conversation
opens from (``application.conversations.chat_ports``).

Counters (source usage, daily tokens) are written with one ``INSERT ... ON CONFLICT DO UPDATE``
that adds to the stored value, so two answers finishing at once both count and neither
overwrites the other; both databases support it.

The statements a chat turn runs are built once, at import, over the tables (Core, not ORM
entities), and executed with bound parameters: building and cache-keying a statement costs about
as much as running a small one on SQLite, and a turn runs a dozen. Rows come back as plain tuples
mapped straight to the port's dataclasses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
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
from adapters.persistence.models.base import utcnow
from adapters.persistence.repositories._support import atomic, execute_update
from adapters.persistence.types import JSONType, UTCDateTime
from application.conversations.chat_ports import (
    AiCall,
    AttachedFile,
    ContextEntry,
    MessageRole,
    NewMessage,
    PromptMaterial,
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


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _insert(session: AsyncSession, table: Any) -> Any:
    return (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(table)


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


# -- the turn's statements, built once ---------------------------------------------------------

_MESSAGE = Message.__table__
_USAGE = ConversationSourceUsage.__table__
_DAILY = DailyTokenUsage.__table__
_CONTEXT = UserContext.__table__
_FILE = File.__table__
_CONVERSATION_FILE = ConversationFile.__table__
_SOURCE = Source.__table__
_SOURCE_CREATOR = SourceCreator.__table__
_CREATOR = Creator.__table__
_CHATBOT_CREATOR = ChatbotCreator.__table__

_RECENT = (
    select(
        _MESSAGE.c.id,
        _MESSAGE.c.role,
        _MESSAGE.c.content,
        _MESSAGE.c.token_count,
        _MESSAGE.c.created_at,
    )
    .where(_MESSAGE.c.conversation_id == bindparam("conversation_id"))
    # Newest first by creation time, then id (the two messages of a turn share a time): the
    # (conversation_id, created_at) index hands them over in that order, so the read costs the
    # same however long the conversation is (ordering by id alone sorted all of its messages).
    .order_by(_MESSAGE.c.created_at.desc(), _MESSAGE.c.id.desc())
    .limit(bindparam("limit"))
)
_ADD_MESSAGE = insert(_MESSAGE)
_ADD_AI_CALL = insert(AiCallCost.__table__)
_DAILY_TOTAL = select(_DAILY.c.input_tokens + _DAILY.c.output_tokens).where(
    _DAILY.c.subject == bindparam("subject"), _DAILY.c.day == bindparam("day")
)
_VISIBLE = (
    _CONTEXT.c.user_id == bindparam("user_id"),
    _CONTEXT.c.is_visible.is_(True),
    or_(_CONTEXT.c.chatbot_id.is_(None), _CONTEXT.c.chatbot_id == bindparam("chatbot_id")),
    or_(_CONTEXT.c.expires_at.is_(None), _CONTEXT.c.expires_at > bindparam("now", type_=UTCDateTime())),
)
_VISIBLE_CONTEXT = (
    select(_CONTEXT.c.key, _CONTEXT.c.value, _CONTEXT.c.source, _CONTEXT.c.chatbot_id)
    .where(*_VISIBLE)
    .order_by(_CONTEXT.c.key)
)
_ATTACHED = (
    select(_FILE.c.id, _FILE.c.file_name, _FILE.c.mime_type, _FILE.c.blob_url, _FILE.c.size_bytes)
    .join(_CONVERSATION_FILE, _CONVERSATION_FILE.c.file_id == _FILE.c.id)
    .where(_CONVERSATION_FILE.c.conversation_id == bindparam("conversation_id"))
    .order_by(_CONVERSATION_FILE.c.created_at, _FILE.c.id)
)
# Each source's creators ranked largest share first, then by id (shares never set rank last):
# the rank, not the share, travels, so both databases order alike (SQLite stores exact decimals
# as text).
_OWNER_RANK = (
    func.row_number()
    .over(
        partition_by=_SOURCE.c.id,
        order_by=(_SOURCE_CREATOR.c.revenue_share.desc().nulls_last(), _SOURCE_CREATOR.c.creator_id),
    )
    .label("rank")
)
_OWNER_COLUMNS = (_SOURCE.c.id, _SOURCE.c.title, _SOURCE_CREATOR.c.creator_id, _CREATOR.c.name, _OWNER_RANK)
_SOURCES_AND_CREATORS = _SOURCE.join(
    _SOURCE_CREATOR, _SOURCE_CREATOR.c.source_id == _SOURCE.c.id, isouter=True
).join(_CREATOR, _CREATOR.c.id == _SOURCE_CREATOR.c.creator_id, isouter=True)
_OWNERS = (
    select(*_OWNER_COLUMNS)
    .select_from(_SOURCES_AND_CREATORS)
    .where(_SOURCE.c.id.in_(bindparam("source_ids", expanding=True)))
)
_CREATOR_SOURCES = (
    select(_SOURCE_CREATOR.c.source_id)
    .join(_CHATBOT_CREATOR, _CHATBOT_CREATOR.c.creator_id == _SOURCE_CREATOR.c.creator_id)
    .where(_CHATBOT_CREATOR.c.chatbot_id == bindparam("chatbot_id"))
    .distinct()
)


def _prompt_material(with_context: bool, with_passages: bool) -> Any:
    """History, user context, attached files and the passages' facts (searchable files, source
    owners) in one statement: a UNION ALL of up to five selects over the same eight columns
    (kind, ref, three texts, a number, a time, a JSON value). Enum columns are read as their
    stored strings; the first select types the columns for both databases (a NULL takes the type
    of the other selects' column)."""
    recent = (
        select(
            _MESSAGE.c.id,
            _MESSAGE.c.role,
            _MESSAGE.c.content,
            _MESSAGE.c.token_count,
            _MESSAGE.c.created_at,
        )
        .where(_MESSAGE.c.conversation_id == bindparam("conversation_id"))
        .order_by(_MESSAGE.c.created_at.desc(), _MESSAGE.c.id.desc())
        .limit(bindparam("history_limit"))
        .subquery()
    )
    history = select(
        literal_column("'m'", String).label("kind"),
        recent.c.id.label("ref"),
        type_coerce(recent.c.role, String).label("text1"),
        recent.c.content.label("text2"),
        type_coerce(null(), String).label("text3"),
        recent.c.token_count.label("number"),
        recent.c.created_at.label("moment"),
        cast(null(), JSONType).label("value"),  # typed: PostgreSQL cannot unite text and jsonb
    )
    files = (
        select(
            literal_column("'f'", String),
            _FILE.c.id,
            _FILE.c.file_name,
            _FILE.c.mime_type,
            _FILE.c.blob_url,
            _FILE.c.size_bytes,
            _CONVERSATION_FILE.c.created_at,
            null(),
        )
        .join(_CONVERSATION_FILE, _CONVERSATION_FILE.c.file_id == _FILE.c.id)
        .where(_CONVERSATION_FILE.c.conversation_id == bindparam("conversation_id"))
    )
    branches = [history, files]
    if with_context:
        context = select(
            literal_column("'c'", String),
            _CONTEXT.c.key,
            type_coerce(_CONTEXT.c.source, String),
            _CONTEXT.c.chatbot_id,
            null(),
            null(),
            null(),
            _CONTEXT.c.value,
        ).where(*_VISIBLE)
        branches.append(context)
    if with_passages:
        searchable = select(
            literal_column("'v'", String), _FILE.c.id, null(), null(), null(), null(), null(), null()
        ).where(
            _FILE.c.source_id.in_(bindparam("passage_source_ids", expanding=True)),
            _FILE.c.is_active.is_(True),
            _FILE.c.status == enums.FileStatus.READY,
        )
        owners = (
            select(literal_column("'o'", String), *_OWNER_COLUMNS, null(), null())
            .select_from(_SOURCES_AND_CREATORS)
            .where(_SOURCE.c.id.in_(bindparam("passage_source_ids", expanding=True)))
        )
        # Owners before files: on SQLite the other order runs the whole statement about twice
        # as long (same plan; measured with SQLite 3.40, the prompt's one read of a chat turn).
        branches += [owners, searchable]
    return union_all(*branches)


_PROMPT_MATERIAL = {
    (context, passages): _prompt_material(context, passages)
    for context in (True, False)
    for passages in (True, False)
}


def _usage_upsert(insert_of: Any) -> Any:
    statement = insert_of(_USAGE)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["conversation_id", "source_id"],
        set_={
            "total_tokens": _USAGE.c.total_tokens + excluded.total_tokens,
            "message_count": _USAGE.c.message_count + 1,
            "last_used_at": excluded.last_used_at,
            "updated_at": excluded.updated_at,
        },
    )


def _daily_upsert(insert_of: Any) -> Any:
    statement = insert_of(_DAILY)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["subject", "day"],
        set_={
            "input_tokens": _DAILY.c.input_tokens + excluded.input_tokens,
            "output_tokens": _DAILY.c.output_tokens + excluded.output_tokens,
        },
    )


_UPSERTS = {
    name: (_usage_upsert(insert_of), _daily_upsert(insert_of))
    for name, insert_of in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


class SqlChatLog:
    """``ChatLog``: the transcript and the ledger rows one answer writes."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def recent_messages(self, conversation_id: str, *, limit: int) -> list[StoredMessage]:
        rows = (
            await self._session.execute(_RECENT, {"conversation_id": conversation_id, "limit": max(1, limit)})
        ).all()
        return [
            StoredMessage(
                id=message_id,
                conversation_id=conversation_id,
                role=role.value,
                content=content,
                token_count=tokens,
                created_at=created_at,
            )
            for message_id, role, content, tokens, created_at in reversed(rows)
        ]

    async def messages_page(
        self, conversation_id: str, *, limit: int, after_id: str | None = None
    ) -> list[StoredMessage]:
        query = select(Message).where(Message.conversation_id == conversation_id)
        if after_id is not None:
            query = query.where(Message.id > after_id)
        rows = await self._session.scalars(query.order_by(Message.id).limit(max(1, limit)))
        return [_stored(row) for row in rows]

    async def add_messages(self, conversation_id: str, messages: Sequence[NewMessage]) -> None:
        if not messages:
            return
        rows: list[dict[str, Any]] = []
        for message in messages:
            at = message.created_at or utcnow()
            rows.append(
                {
                    "id": message.id,
                    "conversation_id": conversation_id,
                    "role": enums.MessageRole(message.role),
                    "content": message.content,
                    "token_count": message.token_count,
                    "sender_user_id": message.sender_user_id,
                    "attribution": dict(message.attribution) if message.attribution is not None else None,
                    "context": dict(message.context) if message.context is not None else None,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        # One statement for all of them (an executemany: one round trip).
        await self._session.execute(_ADD_MESSAGE, rows)

    async def record_source_usage(
        self, conversation_id: str, usages: Sequence[SourceUsage], *, at: datetime
    ) -> None:
        if not usages:
            return
        upsert = _UPSERTS[_dialect(self._session)][0]
        # One statement for every source of the answer (one round trip, whatever the count).
        await self._session.execute(
            upsert,
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
            ],
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
        await self._session.execute(
            _ADD_AI_CALL,
            {
                "id": new_id(),
                "message_id": call.message_id,
                "conversation_id": call.conversation_id,
                "purpose": call.purpose,
                "provider": call.provider,
                "model": call.model,
                "input_tokens": call.input_tokens,
                "output_tokens": call.output_tokens,
                "cost_micros": call.cost_micros,
                "currency": call.currency,
            },
        )

    async def add_daily_tokens(
        self, subject: str, day: date, *, input_tokens: int, output_tokens: int
    ) -> None:
        await self._session.execute(
            _UPSERTS[_dialect(self._session)][1],
            {
                "id": new_id(),
                "subject": subject,
                "day": day,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "updated_at": utcnow(),
            },
        )

    async def daily_tokens(self, subject: str, day: date) -> int:
        total = await self._session.scalar(_DAILY_TOTAL, {"subject": subject, "day": day})
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
        rows = await self._session.execute(
            _VISIBLE_CONTEXT, {"user_id": user_id, "chatbot_id": chatbot_id, "now": now}
        )
        entries: dict[str, ContextEntry] = {}
        for key, value, source, owner in rows:
            if key in entries and owner is None:
                continue  # this chatbot's entry wins over the global one
            entries[key] = ContextEntry(key=key, value=value, source=source.value, chatbot_id=owner)
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
        rows = (await self._session.execute(_ATTACHED, {"conversation_id": conversation_id})).all()
        return [
            AttachedFile(
                file_id=file_id,
                file_name=name,
                mime_type=mime,
                text=await _file_text(self._read_blob, mime, blob, size),
            )
            for file_id, name, mime, blob, size in rows
        ]


class SqlPromptReader:
    """``PromptReader``: the turn's history, user context, attached files and the passages'
    facts in one statement (see ``_prompt_material``); text files are read through
    ``read_blob`` as ``attached`` does, owners are grouped as ``SqlSourceDirectory.owners``."""

    def __init__(self, session: AsyncSession, read_blob: BlobReader | None = None) -> None:
        self._session = session
        self._read_blob = read_blob

    async def prompt_material(
        self,
        conversation_id: str,
        *,
        user_id: str | None,
        chatbot_id: str,
        now: datetime,
        history_limit: int,
        passage_source_ids: Collection[str] = (),
    ) -> PromptMaterial:
        params: dict[str, Any] = {"conversation_id": conversation_id, "history_limit": max(1, history_limit)}
        if user_id:
            params.update(user_id=user_id, chatbot_id=chatbot_id, now=now)
        passages = bool(passage_source_ids)
        if passages:
            params["passage_source_ids"] = sorted(set(passage_source_ids))
        rows = (await self._session.execute(_PROMPT_MATERIAL[(bool(user_id), passages)], params)).all()
        messages: list[Any] = []
        context: list[Any] = []
        attached: list[Any] = []
        owners: list[Any] = []
        searchable: set[str] = set()
        for row in rows:
            kind = row[0]
            if kind == "m":
                messages.append(row)
            elif kind == "c":
                context.append(row)
            elif kind == "f":
                attached.append(row)
            elif kind == "o":
                owners.append(row[1:6])
            else:
                searchable.add(row[1])
        messages.sort(key=lambda r: (r.moment, r.ref))
        context.sort(key=lambda r: r.ref)
        attached.sort(key=lambda r: (r.moment, r.ref))
        entries: dict[str, ContextEntry] = {}
        for _, key, source, owner, _, _, _, value in context:
            if key in entries and owner is None:
                continue  # this chatbot's entry wins over the global one
            entries[key] = ContextEntry(key=key, value=value, source=source, chatbot_id=owner)
        return PromptMaterial(
            history=[
                StoredMessage(
                    id=ref,
                    conversation_id=conversation_id,
                    role=role,
                    content=content,
                    token_count=tokens,
                    created_at=created_at,
                )
                for _, ref, role, content, _, tokens, created_at, _ in messages
            ],
            user_context=list(entries.values()),
            files=[
                AttachedFile(
                    file_id=ref,
                    file_name=name,
                    mime_type=mime,
                    text=await _file_text(self._read_blob, mime, blob, size),
                )
                for _, ref, name, mime, blob, size, _, _ in attached
            ],
            searchable_file_ids=frozenset(searchable),
            owners=_group_owners(owners),
        )


def _group_owners(rows: Iterable[Sequence[Any]]) -> dict[str, SourceOwners]:
    """(source id, title, creator id, creator name, rank) rows (see ``_OWNER_RANK``) as
    ``SourceOwners``, creators in rank order (a source without creators has none)."""
    titles: dict[str, str] = {}
    grouped: dict[str, list[Any]] = {}
    for source_id, title, creator_id, name, rank in rows:
        titles[source_id] = title
        if creator_id is not None:
            grouped.setdefault(source_id, []).append((rank, creator_id, name))
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


async def _file_text(read_blob: BlobReader | None, mime: str, blob: str, size: int) -> str | None:
    """A text file's content (read as UTF-8), or None: not text, too large, or gone."""
    if read_blob is None or not mime.startswith(_TEXT_TYPES) or size > _MAX_FILE_BYTES:
        return None
    try:
        return (await read_blob(blob)).decode("utf-8", errors="replace")
    except NotFound:
        return None


class SqlSourceDirectory:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def owners(self, source_ids: Sequence[str]) -> dict[str, SourceOwners]:
        if not source_ids:
            return {}
        return _group_owners(await self._session.execute(_OWNERS, {"source_ids": list(source_ids)}))

    async def creator_source_ids(self, chatbot_id: str) -> list[str]:
        rows = await self._session.scalars(_CREATOR_SOURCES, {"chatbot_id": chatbot_id})
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
