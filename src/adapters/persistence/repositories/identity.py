"""Identity over the database: the user mirror and API key look-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.persistence.models import AnonymousClaim, ApiKey, Conversation, User
from application.identity.authenticate import MirroredUser
from application.identity.key_ports import ApiKeyInfo
from application.identity.permissions import Action
from application.identity.ports import Claims, StoredApiKey
from domain.ids import new_id


class SqlUserMirror:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def upsert_from_claims(self, claims: Claims) -> MirroredUser:
        values = {
            "email": claims.email or "",
            "first_name": claims.first_name,
            "last_name": claims.last_name,
            "username": claims.username,
        }
        insert = postgresql.insert if self._s.get_bind().dialect.name == "postgresql" else sqlite.insert
        # ON CONFLICT keeps two first requests of the same new user from racing into a 500
        stmt = insert(User).values(id=new_id(), clerk_id=claims.subject, **values)
        changed = {k: v for k, v in values.items() if v}
        stmt = (
            stmt.on_conflict_do_update(index_elements=[User.clerk_id], set_=changed)
            if changed
            else stmt.on_conflict_do_nothing(index_elements=[User.clerk_id])
        )
        await self._s.execute(stmt)
        row = (
            await self._s.execute(select(User.id, User.platform_role).where(User.clerk_id == claims.subject))
        ).one()
        return MirroredUser(user_id=row.id, is_operator=str(row.platform_role or "") == "OPERATOR")


class SqlApiKeyStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def find_by_prefix(self, prefix: str) -> StoredApiKey | None:
        row = await self._s.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None:
            return None
        known = {a.value for a in Action}
        return StoredApiKey(
            id=row.id,
            creator_id=row.creator_id,
            prefix=row.prefix,
            key_hash=row.key_hash,
            actions=frozenset(Action(a) for a in row.permissions or [] if a in known),
            revoked_at=row.revoked_at,
            expires_at=row.expires_at,
        )

    async def touch(self, api_key_id: str, at: datetime) -> None:
        await self._s.execute(update(ApiKey).where(ApiKey.id == api_key_id).values(last_used_at=at))


def _info(row: ApiKey) -> ApiKeyInfo:
    known = {a.value for a in Action}
    return ApiKeyInfo(
        id=row.id,
        creator_id=row.creator_id,
        name=row.name,
        prefix=row.prefix,
        actions=frozenset(Action(a) for a in row.permissions or [] if a in known),
        created_at=row.created_at,
        created_by_user_id=row.created_by_user_id,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class SqlApiKeyRegistry:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, info: ApiKeyInfo, *, key_hash: str) -> None:
        self._s.add(
            ApiKey(
                id=info.id,
                creator_id=info.creator_id,
                prefix=info.prefix,
                key_hash=key_hash,
                name=info.name,
                permissions=sorted(a.value for a in info.actions),
                created_by_user_id=info.created_by_user_id,
                created_at=info.created_at,
                expires_at=info.expires_at,
            )
        )
        await self._s.flush()

    async def list_for_creator(self, creator_id: str) -> list[ApiKeyInfo]:
        rows = await self._s.scalars(
            select(ApiKey)
            .where(ApiKey.creator_id == creator_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        )
        return [_info(r) for r in rows]

    async def get(self, creator_id: str, key_id: str) -> ApiKeyInfo | None:
        row = await self._s.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.creator_id == creator_id))
        return _info(row) if row is not None else None

    async def revoke(self, key_id: str, at: datetime) -> None:
        await self._s.execute(
            update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=at)
        )


class SqlAnonymousActivity:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def claim(self, anonymous_id: str, user_id: str, at: datetime) -> str:
        insert = postgresql.insert if self._s.get_bind().dialect.name == "postgresql" else sqlite.insert
        await self._s.execute(
            insert(AnonymousClaim)
            .values(id=new_id(), anonymous_id=anonymous_id, user_id=user_id, claimed_at=at)
            .on_conflict_do_nothing(index_elements=[AnonymousClaim.anonymous_id])
        )
        owner = await self._s.scalar(
            select(AnonymousClaim.user_id).where(AnonymousClaim.anonymous_id == anonymous_id)
        )
        assert owner is not None
        return owner

    async def move_conversations(self, anonymous_id: str, user_id: str) -> int:
        result = await self._s.execute(
            update(Conversation)
            .where(Conversation.anonymous_id == anonymous_id, Conversation.user_id.is_(None))
            .values(user_id=user_id)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
