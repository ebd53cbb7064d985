"""Chatbots, their owners (``chatbot_creator``) and append-only versions (``chatbot_version``).

"Each creator has exactly one CREATOR chatbot" is held by the unique ``persona_creator_id``: a
CREATOR chatbot records the creator it speaks for, which is its one PRIMARY_OWNER at the moment
it becomes a CREATOR chatbot. Versions are inserted once; afterwards only ``deactivated_at`` is
ever written, and only from NULL.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.mappers.chatbot_config import live_columns, to_version, to_version_row
from adapters.persistence.models import Chatbot as ChatbotRow
from adapters.persistence.models import ChatbotCreator
from adapters.persistence.models import ChatbotVersion as VersionRow
from adapters.persistence.repositories._support import atomic, execute_update, fresh, lock_row
from application.errors import Conflict, InvalidInput, NotFound
from domain.chatbots import Chatbot, ChatbotType, ChatbotVersion, Publication, VersionHistory
from domain.roles import ChatbotOwnerRole, ChatbotOwners
from domain.slug import Slug


def persona_of(chatbot_type: ChatbotType, owners: ChatbotOwners) -> str | None:
    """The creator a CREATOR chatbot speaks for: its single PRIMARY_OWNER."""
    if chatbot_type is not ChatbotType.CREATOR:
        return None
    if len(owners.keepers) != 1:
        raise Conflict(
            "a CREATOR chatbot speaks for one creator: give it exactly one PRIMARY_OWNER",
            code="creator-chatbot-needs-persona",
        )
    return owners.keepers[0]


def namespace_of(chatbot_id: str) -> str:
    """The vector namespace recorded on chatbot rows (the seed's ``pinecone_ns``)."""
    return chatbot_id


def _to_chatbot(row: ChatbotRow, owners: ChatbotOwners) -> Chatbot:
    return Chatbot(
        id=row.id,
        slug=Slug(row.slug),
        type=ChatbotType(row.type.value),
        owners=owners,
        is_public=row.is_public,
        is_active=row.is_active,
        current_version_id=row.current_version_id,
    )


def _owner_row(chatbot_id: str, creator_id: str, role: ChatbotOwnerRole) -> ChatbotCreator:
    return ChatbotCreator(
        chatbot_id=chatbot_id, creator_id=creator_id, role=enums.ChatbotOwnerRole(role.value)
    )


class SqlAlchemyChatbotRepository:
    """``ChatbotRepository`` over SQLAlchemy."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, chatbot: Chatbot, first_version: ChatbotVersion) -> None:
        if first_version.chatbot_id != chatbot.id or first_version.version_number != 1:
            raise InvalidInput(
                "a new chatbot starts with its own version 1", errors={"first_version": "not version 1 of it"}
            )
        persona = persona_of(chatbot.type, chatbot.owners)
        namespace = namespace_of(chatbot.id)
        async with atomic(self._session):
            # chatbot <-> chatbot_version reference each other: insert the chatbot without its
            # current version, then the version, then point the chatbot at it.
            self._session.add(
                ChatbotRow(
                    id=chatbot.id,
                    slug=chatbot.slug.value,
                    is_public=chatbot.is_public,
                    is_active=chatbot.is_active,
                    current_version_id=None,
                    persona_creator_id=persona,
                    pinecone_ns=namespace,
                    vector_namespace=namespace,
                    **{**live_columns(first_version.config), "type": enums.ChatbotType(chatbot.type.value)},
                )
            )
            await self._session.flush()
            self._session.add(to_version_row(first_version, namespace=namespace))
            self._session.add_all(_owner_row(chatbot.id, cid, role) for cid, role in chatbot.owners)
            await self._session.flush()
            if chatbot.current_version_id is not None:
                await execute_update(
                    self._session,
                    update(ChatbotRow)
                    .where(ChatbotRow.id == chatbot.id)
                    .values(current_version_id=chatbot.current_version_id),
                )

    async def get(self, chatbot_id: str) -> Chatbot | None:
        return await self._one(ChatbotRow.id == chatbot_id)

    async def get_by_slug(self, slug: str) -> Chatbot | None:
        return await self._one(ChatbotRow.slug == slug)

    async def get_creator_chatbot(self, creator_id: str) -> Chatbot | None:
        return await self._one(ChatbotRow.persona_creator_id == creator_id)

    async def list_for_creator(self, creator_id: str) -> list[Chatbot]:
        owned = select(ChatbotCreator.chatbot_id).where(ChatbotCreator.creator_id == creator_id)
        rows = (
            await self._session.scalars(
                fresh(select(ChatbotRow).where(ChatbotRow.id.in_(owned)).order_by(ChatbotRow.slug))
            )
        ).all()
        rosters = await self._rosters(r.id for r in rows)
        return [_to_chatbot(row, rosters[row.id]) for row in rows]

    async def save(self, chatbot: Chatbot) -> None:
        async with atomic(self._session):
            count = await execute_update(
                self._session,
                update(ChatbotRow)
                .where(ChatbotRow.id == chatbot.id)
                .values(slug=chatbot.slug.value, is_public=chatbot.is_public, is_active=chatbot.is_active),
            )
        if count == 0:
            raise NotFound(f"chatbot {chatbot.id!r} does not exist", code="chatbot-not-found")

    # versions ------------------------------------------------------------------------------
    async def append_version(self, publication: Publication) -> None:
        new, old = publication.version, publication.deactivated
        chatbot_id = new.chatbot_id
        await lock_row(self._session, ChatbotRow.id, chatbot_id, what="chatbot")
        row = (
            await self._session.execute(
                select(ChatbotRow.current_version_id, ChatbotRow.persona_creator_id).where(
                    ChatbotRow.id == chatbot_id
                )
            )
        ).one()
        if row.current_version_id != (old.id if old is not None else None):
            raise Conflict(
                "another version was published first; reload and try again", code="version-conflict"
            )
        config = new.config
        persona = row.persona_creator_id
        if config.type is not ChatbotType.CREATOR:
            persona = None
        elif persona is None:
            persona = persona_of(config.type, (await self._rosters([chatbot_id]))[chatbot_id])
        async with atomic(self._session):
            if old is not None:
                closed = await execute_update(
                    self._session,
                    update(VersionRow)
                    .where(VersionRow.id == old.id, VersionRow.deactivated_at.is_(None))
                    .values(deactivated_at=old.deactivated_at),
                )
                if closed != 1:
                    raise Conflict("the replaced version was already closed", code="version-conflict")
            self._session.add(to_version_row(new, namespace=namespace_of(chatbot_id)))
            await self._session.flush()
            await execute_update(
                self._session,
                update(ChatbotRow)
                .where(ChatbotRow.id == chatbot_id)
                .values(current_version_id=new.id, persona_creator_id=persona, **live_columns(config)),
            )

    async def list_versions(self, chatbot_id: str) -> VersionHistory:
        rows = await self._session.scalars(
            fresh(
                select(VersionRow)
                .where(VersionRow.chatbot_id == chatbot_id)
                .order_by(VersionRow.version_number)
            )
        )
        return VersionHistory(chatbot_id, [to_version(r) for r in rows])

    async def get_version(self, version_id: str) -> ChatbotVersion | None:
        row = await self._session.scalar(fresh(select(VersionRow).where(VersionRow.id == version_id)))
        return to_version(row) if row is not None else None

    # owners --------------------------------------------------------------------------------
    async def add_owner(self, chatbot_id: str, creator_id: str, role: ChatbotOwnerRole) -> ChatbotOwners:
        roster = (await self._locked_roster(chatbot_id)).with_member(creator_id, role)
        async with atomic(self._session):
            self._session.add(_owner_row(chatbot_id, creator_id, role))
        return roster

    async def change_owner_role(
        self, chatbot_id: str, creator_id: str, role: ChatbotOwnerRole
    ) -> ChatbotOwners:
        roster = (await self._locked_roster(chatbot_id)).with_role(creator_id, role)
        async with atomic(self._session):
            await execute_update(
                self._session,
                update(ChatbotCreator)
                .where(ChatbotCreator.chatbot_id == chatbot_id, ChatbotCreator.creator_id == creator_id)
                .values(role=enums.ChatbotOwnerRole(role.value)),
            )
        return roster

    async def remove_owner(self, chatbot_id: str, creator_id: str) -> ChatbotOwners:
        roster = (await self._locked_roster(chatbot_id)).without(creator_id)
        async with atomic(self._session):
            await execute_update(
                self._session,
                delete(ChatbotCreator).where(
                    ChatbotCreator.chatbot_id == chatbot_id, ChatbotCreator.creator_id == creator_id
                ),
            )
        return roster

    # helpers -------------------------------------------------------------------------------
    async def _locked_roster(self, chatbot_id: str) -> ChatbotOwners:
        # Without the lock, two transactions could each see two PRIMARY_OWNERs and each remove
        # one, leaving none; with it the second one counts after the first has committed.
        await lock_row(self._session, ChatbotRow.id, chatbot_id, what="chatbot")
        return (await self._rosters([chatbot_id]))[chatbot_id]

    async def _one(self, condition: ColumnElement[bool]) -> Chatbot | None:
        row = await self._session.scalar(fresh(select(ChatbotRow).where(condition)))
        if row is None:
            return None
        return _to_chatbot(row, (await self._rosters([row.id]))[row.id])

    async def _rosters(self, chatbot_ids: Iterable[str]) -> dict[str, ChatbotOwners]:
        ids = list(dict.fromkeys(chatbot_ids))
        if not ids:
            return {}
        owners: dict[str, dict[str, ChatbotOwnerRole]] = {cid: {} for cid in ids}
        rows = await self._session.execute(
            select(ChatbotCreator.chatbot_id, ChatbotCreator.creator_id, ChatbotCreator.role).where(
                ChatbotCreator.chatbot_id.in_(ids)
            )
        )
        for chatbot_id, creator_id, role in rows:
            owners[chatbot_id][creator_id] = ChatbotOwnerRole(role.value)
        return {cid: ChatbotOwners(o) for cid, o in owners.items()}
