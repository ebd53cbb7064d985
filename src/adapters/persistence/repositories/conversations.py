"""Conversations, written only through guarded UPDATEs (see ``application.conversations.ports``).

Why a guarded UPDATE rather than a lock: it is one statement, so it holds the row lock only for
its own duration. On PostgreSQL a second UPDATE of the same row waits for the first to commit
and then re-checks its WHERE clause against the new row (READ COMMITTED), so it matches
nothing and reports that it lost. On SQLite writers are serialized anyway and the loser sees the
winner's row.

``archived_at`` has no column yet: it is kept in the row's ``metadata`` JSON under that key.

The statements on a chat turn's path (``get``, ``reserve_message``, ``add_tokens``) are built
once over the table with bound parameters (see ``repositories.chat`` for why).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, bindparam, case, literal, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import ChatbotVersion as VersionRow
from adapters.persistence.models import Conversation as ConversationRow
from adapters.persistence.repositories._support import atomic, execute_update, fresh
from adapters.persistence.types import UTCDateTime
from application.conversations.ports import DEFAULT_PAGE, ConversationGuard, check_token_counts, page_size
from domain.conversations import Conversation, ConversationStatus, MessageAllowance

Row = ConversationRow
_ARCHIVED_AT = "archived_at"


def _metadata(conversation: Conversation, existing: dict[str, Any] | None) -> dict[str, Any] | None:
    data = dict(existing or {})
    if conversation.archived_at is not None:
        data[_ARCHIVED_AT] = conversation.archived_at.isoformat()
    else:
        data.pop(_ARCHIVED_AT, None)
    return data or None


_TABLE = Row.__table__
_GET = select(
    *(c.label("metadata_") if c.name == "metadata" else c for c in _TABLE.c)  # the ORM's name
).where(_TABLE.c.id == bindparam("id"))
_AT = bindparam("at", type_=UTCDateTime())
_COMPLETES = _TABLE.c.messages_used + 1 >= _TABLE.c.message_allowance
_RESERVE = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("conversation_id"),
        _TABLE.c.status == enums.ConversationStatus.ACTIVE,
        _TABLE.c.messages_used < _TABLE.c.message_allowance,
        _TABLE.c.expires_at > _AT,
        # the caller's (conversation_roles' owner rule): a NULL id matches nothing
        or_(
            _TABLE.c.user_id == bindparam("asker_user_id"),
            and_(_TABLE.c.user_id.is_(None), _TABLE.c.anonymous_id == bindparam("asker_anonymous_id")),
        ),
    )
    .values(
        messages_used=_TABLE.c.messages_used + 1,
        status=case((_COMPLETES, literal(enums.ConversationStatus.COMPLETED.value)), else_=_TABLE.c.status),
        completed_at=case((_COMPLETES, _AT), else_=_TABLE.c.completed_at),
        ended_at=case((_COMPLETES, _AT), else_=_TABLE.c.ended_at),
    )
    .returning(*_GET.selected_columns)
)
_ADD_TOKENS = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("conversation_id"), _TABLE.c.attributed_at.is_(None))
    .values(
        input_tokens=_TABLE.c.input_tokens + bindparam("input_tokens"),
        output_tokens=_TABLE.c.output_tokens + bindparam("output_tokens"),
    )
)


def _to_conversation(row: Any) -> Conversation:
    """From an ORM row or a Core row of ``_GET`` (same attribute names)."""
    archived = (row.metadata_ or {}).get(_ARCHIVED_AT)
    return Conversation(
        id=row.id,
        chatbot_id=row.chatbot_id,
        version_id=row.chatbot_version_id,
        user_id=row.user_id,
        anonymous_id=row.anonymous_id,
        allowance=MessageAllowance(row.message_allowance, row.messages_used),
        started_at=row.created_at,
        expires_at=row.expires_at,
        purchase_id=row.purchase_id,
        status=ConversationStatus(row.status.value),
        completed_at=row.completed_at,
        ended_at=row.ended_at,
        archived_at=datetime.fromisoformat(archived) if archived else None,
        attributed_at=row.attributed_at,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
    )


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _status(status: ConversationStatus) -> enums.ConversationStatus:
    return enums.ConversationStatus(status.value)


class SqlAlchemyConversationRepository:
    """``ConversationRepository`` over SQLAlchemy."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, conversation: Conversation) -> None:
        c = conversation
        token_cap = (
            select(VersionRow.conversation_token_cap).where(VersionRow.id == c.version_id).scalar_subquery()
        )
        async with atomic(self._session):
            self._session.add(
                Row(
                    id=c.id,
                    chatbot_id=c.chatbot_id,
                    chatbot_version_id=c.version_id,
                    user_id=c.user_id,
                    anonymous_id=c.anonymous_id,
                    message_allowance=c.allowance.allowance,
                    messages_used=c.allowance.used,
                    created_at=c.started_at,
                    expires_at=c.expires_at,
                    purchase_id=c.purchase_id,
                    status=_status(c.status),
                    completed_at=c.completed_at,
                    ended_at=c.ended_at,
                    attributed_at=c.attributed_at,
                    metadata_=_metadata(c, None),
                    input_tokens=c.input_tokens,
                    output_tokens=c.output_tokens,
                    # Copied from the version at start, so enforcing the cap reads one row.
                    token_cap=token_cap,
                )
            )

    async def get(self, conversation_id: str) -> Conversation | None:
        row = (await self._session.execute(_GET, {"id": conversation_id})).first()
        return _to_conversation(row) if row is not None else None

    async def get_for_update(self, conversation_id: str) -> Conversation | None:
        locked = select(Row).where(Row.id == conversation_id).with_for_update(key_share=True)
        row = await self._session.scalar(fresh(locked))
        return _to_conversation(row) if row is not None else None

    async def reserve_message(
        self, conversation_id: str, *, user_id: str | None, anonymous_id: str | None, at: datetime
    ) -> Conversation | None:
        # No savepoint: this UPDATE cannot break a constraint, and it is on every message's path.
        row = (
            await self._session.execute(
                _RESERVE,
                {
                    "conversation_id": conversation_id,
                    "asker_user_id": user_id,
                    "asker_anonymous_id": anonymous_id,
                    "at": at,
                },
            )
        ).first()
        return _to_conversation(row) if row is not None else None

    async def save(self, conversation: Conversation, *, guard: ConversationGuard) -> bool:
        c = conversation
        existing = await self._session.scalar(select(Row.metadata_).where(Row.id == c.id))
        attributed: ColumnElement[bool] = (
            Row.attributed_at.is_not(None) if guard.attributed else Row.attributed_at.is_(None)
        )
        statement = (
            update(Row)
            .where(
                Row.id == c.id,
                Row.status == _status(guard.status),
                Row.messages_used == guard.messages_used,
                attributed,
            )
            .values(
                status=_status(c.status),
                messages_used=c.allowance.used,
                completed_at=c.completed_at,
                ended_at=c.ended_at,
                attributed_at=c.attributed_at,
                metadata_=_metadata(c, existing),
            )
        )
        async with atomic(self._session):
            return await execute_update(self._session, statement) == 1

    async def add_tokens(self, conversation_id: str, *, input_tokens: int, output_tokens: int) -> bool:
        check_token_counts(input_tokens, output_tokens)
        result = await self._session.execute(
            _ADD_TOKENS,
            {
                "conversation_id": conversation_id,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
            },
            execution_options={"synchronize_session": False},
        )
        return _rowcount(result) == 1

    async def list_for_user(
        self, user_id: str, *, limit: int = DEFAULT_PAGE, before_id: str | None = None
    ) -> list[Conversation]:
        return await self._page(Row.user_id == user_id, limit=limit, before_id=before_id)

    async def list_for_anonymous(
        self, anonymous_id: str, *, limit: int = DEFAULT_PAGE, before_id: str | None = None
    ) -> list[Conversation]:
        return await self._page(Row.anonymous_id == anonymous_id, limit=limit, before_id=before_id)

    async def list_due_to_expire(self, now: datetime, *, limit: int = DEFAULT_PAGE) -> list[Conversation]:
        rows = await self._session.scalars(
            fresh(
                select(Row)
                .where(
                    Row.status == enums.ConversationStatus.ACTIVE,
                    Row.expires_at <= literal(now, UTCDateTime()),
                )
                .order_by(Row.expires_at, Row.id)
                .limit(page_size(limit))
            )
        )
        return [_to_conversation(r) for r in rows]

    async def list_ended_unattributed(
        self, ended_before: datetime, *, limit: int = DEFAULT_PAGE
    ) -> list[Conversation]:
        rows = await self._session.scalars(
            fresh(
                select(Row)
                .where(
                    and_(
                        Row.ended_at.is_not(None),
                        Row.ended_at < literal(ended_before, UTCDateTime()),
                        Row.attributed_at.is_(None),
                    )
                )
                .order_by(Row.ended_at, Row.id)
                .limit(page_size(limit))
            )
        )
        return [_to_conversation(r) for r in rows]

    async def _page(
        self, owner: ColumnElement[bool], *, limit: int, before_id: str | None
    ) -> list[Conversation]:
        # Ids are UUIDv7, so ordering by id is ordering by creation time, and a page boundary
        # is stable under concurrent inserts (keyset pagination).
        query = select(Row).where(owner)
        if before_id is not None:
            query = query.where(Row.id < before_id)
        rows = await self._session.scalars(fresh(query.order_by(Row.id.desc()).limit(page_size(limit))))
        return [_to_conversation(r) for r in rows]
