"""Creator profiles and their members (``creator`` + ``creator_user``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence import enums
from adapters.persistence.models import Creator as CreatorRow
from adapters.persistence.models import CreatorUser
from adapters.persistence.repositories._support import atomic, execute_update, fresh, lock_row
from application.catalogue.ports import CreatorMembership
from application.errors import NotFound
from domain.catalogue import Creator
from domain.roles import CreatorMembers, CreatorRole
from domain.slug import Slug


def _to_creator(row: CreatorRow, members: CreatorMembers) -> Creator:
    return Creator(
        id=row.id,
        name=row.name,
        slug=Slug(row.slug),
        members=members,
        bio=row.bio,
        avatar_url=row.avatar_url,
        social_links=dict(row.social_links or {}),
    )


def _profile(creator: Creator) -> dict[str, object]:
    return {
        "name": creator.name,
        "slug": creator.slug.value,
        "bio": creator.bio,
        "avatar_url": creator.avatar_url,
        "social_links": dict(creator.social_links) or None,
    }


class SqlAlchemyCreatorRepository:
    """``CreatorRepository`` over SQLAlchemy."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, creator: Creator) -> None:
        async with atomic(self._session):
            self._session.add(CreatorRow(id=creator.id, **_profile(creator)))
            await self._session.flush()  # the parent row first: no relationship() orders it
            for user_id, role in creator.members:
                self._session.add(
                    CreatorUser(creator_id=creator.id, user_id=user_id, role=enums.CreatorRole(role.value))
                )

    async def get(self, creator_id: str) -> Creator | None:
        row = await self._session.scalar(fresh(select(CreatorRow).where(CreatorRow.id == creator_id)))
        return await self._with_members(row)

    async def get_by_slug(self, slug: str) -> Creator | None:
        row = await self._session.scalar(fresh(select(CreatorRow).where(CreatorRow.slug == slug)))
        return await self._with_members(row)

    async def list_for_user(self, user_id: str) -> list[CreatorMembership]:
        result = await self._session.execute(
            fresh(
                select(CreatorRow, CreatorUser.role)
                .join(CreatorUser, CreatorUser.creator_id == CreatorRow.id)
                .where(CreatorUser.user_id == user_id)
                .order_by(CreatorRow.slug)
            )
        )
        pairs = [(row, role) for row, role in result]
        rosters = await self._rosters(row.id for row, _ in pairs)
        return [
            CreatorMembership(creator=_to_creator(row, rosters[row.id]), role=CreatorRole(role.value))
            for row, role in pairs
        ]

    async def save_profile(self, creator: Creator) -> None:
        async with atomic(self._session):
            count = await execute_update(
                self._session,
                update(CreatorRow).where(CreatorRow.id == creator.id).values(**_profile(creator)),
            )
        if count == 0:
            raise NotFound(f"creator {creator.id!r} does not exist", code="creator-not-found")

    async def add_member(self, creator_id: str, user_id: str, role: CreatorRole) -> CreatorMembers:
        roster = (await self._locked_roster(creator_id)).with_member(user_id, role)
        async with atomic(self._session):
            self._session.add(
                CreatorUser(creator_id=creator_id, user_id=user_id, role=enums.CreatorRole(role.value))
            )
        return roster

    async def change_member_role(self, creator_id: str, user_id: str, role: CreatorRole) -> CreatorMembers:
        roster = (await self._locked_roster(creator_id)).with_role(user_id, role)
        async with atomic(self._session):
            await execute_update(
                self._session,
                update(CreatorUser)
                .where(CreatorUser.creator_id == creator_id, CreatorUser.user_id == user_id)
                .values(role=enums.CreatorRole(role.value)),
            )
        return roster

    async def remove_member(self, creator_id: str, user_id: str) -> CreatorMembers:
        roster = (await self._locked_roster(creator_id)).without(user_id)
        async with atomic(self._session):
            await execute_update(
                self._session,
                delete(CreatorUser).where(
                    CreatorUser.creator_id == creator_id, CreatorUser.user_id == user_id
                ),
            )
        return roster

    async def _locked_roster(self, creator_id: str) -> CreatorMembers:
        # The lock makes "count the owners, then change one" a single step for everyone else.
        await lock_row(self._session, CreatorRow.id, creator_id, what="creator")
        return (await self._rosters([creator_id]))[creator_id]

    async def _with_members(self, row: CreatorRow | None) -> Creator | None:
        if row is None:
            return None
        return _to_creator(row, (await self._rosters([row.id]))[row.id])

    async def _rosters(self, creator_ids: Iterable[str]) -> dict[str, CreatorMembers]:
        ids = list(dict.fromkeys(creator_ids))
        if not ids:
            return {}
        members: dict[str, dict[str, CreatorRole]] = {cid: {} for cid in ids}
        rows = await self._session.execute(
            select(CreatorUser.creator_id, CreatorUser.user_id, CreatorUser.role).where(
                CreatorUser.creator_id.in_(ids)
            )
        )
        for creator_id, user_id, role in rows:
            members[creator_id][user_id] = CreatorRole(role.value)
        return {cid: CreatorMembers(m) for cid, m in members.items()}
