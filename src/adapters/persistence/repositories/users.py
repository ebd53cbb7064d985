"""Users, mirrored from the identity provider (``user.clerk_id`` holds its subject)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models import User as UserRow
from adapters.persistence.repositories._support import atomic, execute_update, fresh
from application.errors import Conflict
from domain.catalogue import User


def to_user(row: UserRow) -> User:
    return User(
        id=row.id,
        external_id=row.clerk_id,
        email=row.email,
        username=row.username,
        first_name=row.first_name,
        last_name=row.last_name,
        phone=row.phone,
    )


def _profile(user: User) -> dict[str, str | None]:
    return {
        "email": user.email,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
    }


class SqlAlchemyUserRepository:
    """``UserRepository`` over SQLAlchemy."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: str) -> User | None:
        row = await self._session.scalar(fresh(select(UserRow).where(UserRow.id == user_id)))
        return to_user(row) if row is not None else None

    async def get_by_external_id(self, external_id: str) -> User | None:
        row = await self._session.scalar(fresh(select(UserRow).where(UserRow.clerk_id == external_id)))
        return to_user(row) if row is not None else None

    async def add(self, user: User) -> None:
        async with atomic(self._session):
            self._session.add(UserRow(id=user.id, clerk_id=user.external_id, **_profile(user)))

    async def upsert(self, user: User) -> User:
        existing = await self.get_by_external_id(user.external_id)
        if existing is None:
            try:
                await self.add(user)
            except Conflict as exc:
                if exc.code != "user-external-id-taken":
                    raise
                # A concurrent first sign-in inserted the same person: update theirs instead.
                existing = await self.get_by_external_id(user.external_id)
                if existing is None:  # pragma: no cover - the winner's row cannot vanish
                    raise
            else:
                return user
        async with atomic(self._session):
            await execute_update(
                self._session, update(UserRow).where(UserRow.id == existing.id).values(**_profile(user))
            )
        stored = await self.get(existing.id)
        assert stored is not None
        return stored
