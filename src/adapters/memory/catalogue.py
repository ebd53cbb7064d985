"""In-memory users, creators and sources: the fakes of ``application.catalogue.ports``."""

from __future__ import annotations

from datetime import datetime

from adapters.memory.store import InMemorySession, Tables, copied
from application.catalogue.ports import CreatorMembership, ShareSetVersion
from application.errors import Conflict, InvalidInput, NotFound
from domain.catalogue import Creator, Source, SourceFile, User
from domain.roles import CreatorMembers, CreatorRole
from domain.shares import ShareSet


def missing_reference(what: str, ident: str) -> Conflict:
    return Conflict(f"{what} {ident!r} does not exist", code="missing-reference")


def require_users(tables: Tables, *user_ids: str) -> None:
    for user_id in user_ids:
        if user_id not in tables.users:
            raise missing_reference("user", user_id)


def require_creators(tables: Tables, *creator_ids: str) -> None:
    for creator_id in creator_ids:
        if creator_id not in tables.creators:
            raise missing_reference("creator", creator_id)


class InMemoryUserRepository:
    def __init__(self, session: InMemorySession) -> None:
        self._session = session

    async def get(self, user_id: str) -> User | None:
        return copied((await self._session.tables()).users.get(user_id))

    async def get_by_external_id(self, external_id: str) -> User | None:
        users = (await self._session.tables()).users.values()
        return copied(next((u for u in users if u.external_id == external_id), None))

    async def add(self, user: User) -> None:
        async with self._session.atomic() as t:
            if user.id in t.users:
                raise Conflict("a user with this id exists", code="unique-violation")
            if any(u.external_id == user.external_id for u in t.users.values()):
                raise Conflict(
                    "A user with this external identity already exists.", code="user-external-id-taken"
                )
            t.users[user.id] = copied(user)

    async def upsert(self, user: User) -> User:
        existing = await self.get_by_external_id(user.external_id)
        if existing is None:
            await self.add(user)
            return copied(user)
        async with self._session.atomic() as t:
            stored = t.users[existing.id]
            for name in ("email", "username", "first_name", "last_name", "phone"):
                setattr(stored, name, getattr(user, name))
            return copied(stored)


class InMemoryCreatorRepository:
    def __init__(self, session: InMemorySession) -> None:
        self._session = session

    async def add(self, creator: Creator) -> None:
        async with self._session.atomic() as t:
            if creator.id in t.creators:
                raise Conflict("a creator with this id exists", code="unique-violation")
            _check_slug(t, creator)
            require_users(t, *(user_id for user_id, _ in creator.members))
            t.creators[creator.id] = copied(creator)

    async def get(self, creator_id: str) -> Creator | None:
        return copied((await self._session.tables()).creators.get(creator_id))

    async def get_by_slug(self, slug: str) -> Creator | None:
        creators = (await self._session.tables()).creators.values()
        return copied(next((c for c in creators if c.slug.value == slug), None))

    async def list_for_user(self, user_id: str) -> list[CreatorMembership]:
        creators = (await self._session.tables()).creators.values()
        found = [
            CreatorMembership(creator=copied(c), role=role)
            for c in creators
            if (role := c.members.role_of(user_id)) is not None
        ]
        return sorted(found, key=lambda m: m.creator.slug.value)

    async def save_profile(self, creator: Creator) -> None:
        async with self._session.atomic() as t:
            stored = _creator(t, creator.id)
            _check_slug(t, creator)
            members = stored.members
            t.creators[creator.id] = copied(creator)
            t.creators[creator.id].members = members

    async def add_member(self, creator_id: str, user_id: str, role: CreatorRole) -> CreatorMembers:
        async with self._session.atomic() as t:
            stored = _creator(t, creator_id)
            roster = stored.members.with_member(user_id, role)
            require_users(t, user_id)
            stored.members = roster
            return roster

    async def change_member_role(self, creator_id: str, user_id: str, role: CreatorRole) -> CreatorMembers:
        async with self._session.atomic() as t:
            stored = _creator(t, creator_id)
            stored.members = stored.members.with_role(user_id, role)
            return stored.members

    async def remove_member(self, creator_id: str, user_id: str) -> CreatorMembers:
        async with self._session.atomic() as t:
            stored = _creator(t, creator_id)
            stored.members = stored.members.without(user_id)
            return stored.members


def _creator(t: Tables, creator_id: str) -> Creator:
    if creator_id not in t.creators:
        raise NotFound(f"creator {creator_id!r} does not exist", code="creator-not-found")
    return t.creators[creator_id]


def _check_slug(t: Tables, creator: Creator) -> None:
    if any(c.slug == creator.slug and c.id != creator.id for c in t.creators.values()):
        raise Conflict("A creator with this slug already exists.", code="creator-slug-taken")


class InMemorySourceRepository:
    def __init__(self, session: InMemorySession) -> None:
        self._session = session

    async def add(self, source: Source, *, effective_from: datetime) -> None:
        async with self._session.atomic() as t:
            if source.id in t.sources:
                raise Conflict("a source with this id exists", code="unique-violation")
            require_users(t, source.created_by)
            require_creators(t, *source.creator_ids)
            t.sources[source.id] = copied(source)
            t.share_history[source.id] = [
                ShareSetVersion(
                    source_id=source.id,
                    shares=source.shares,
                    effective_from=effective_from,
                    changed_by=source.created_by,
                )
            ]

    async def get(self, source_id: str) -> Source | None:
        return copied((await self._session.tables()).sources.get(source_id))

    async def list_by_creator(self, creator_id: str) -> list[Source]:
        sources = (await self._session.tables()).sources.values()
        return [copied(s) for s in sources if creator_id in s.creator_ids]

    async def save(self, source: Source) -> None:
        async with self._session.atomic() as t:
            stored = _source(t, source.id)
            shares = stored.shares
            t.sources[source.id] = copied(source)
            t.sources[source.id].shares = shares

    async def change_shares(
        self, source_id: str, shares: ShareSet, *, effective_from: datetime, changed_by: str
    ) -> None:
        if not isinstance(shares, ShareSet):
            raise InvalidInput("shares must be a ShareSet", errors={"shares": "not a ShareSet"})
        async with self._session.atomic() as t:
            stored = _source(t, source_id)
            history = t.share_history.setdefault(source_id, [])
            latest = history[-1].effective_from if history else None
            if latest is not None and effective_from <= latest:
                code = "share-change-conflict" if effective_from == latest else "shares-changed-later"
                raise Conflict(
                    f"the shares of {source_id!r} already changed at {latest.isoformat()}", code=code
                )
            require_creators(t, *shares.creator_ids)
            require_users(t, changed_by)
            stored.set_shares(shares)
            history.append(
                ShareSetVersion(
                    source_id=source_id, shares=shares, effective_from=effective_from, changed_by=changed_by
                )
            )

    async def share_history(self, source_id: str) -> list[ShareSetVersion]:
        return list((await self._session.tables()).share_history.get(source_id, []))

    async def shares_at(self, source_id: str, moment: datetime) -> ShareSet | None:
        history = (await self._session.tables()).share_history.get(source_id, [])
        applicable = [v for v in history if v.effective_from <= moment]
        return applicable[-1].shares if applicable else None

    async def add_file(self, file: SourceFile) -> None:
        if file.creator_id is None:
            raise InvalidInput("a stored file needs a creator", errors={"creator_id": "missing"})
        async with self._session.atomic() as t:
            if file.id in t.files:
                raise Conflict("a file with this id exists", code="unique-violation")
            require_users(t, file.owner_user_id)
            require_creators(t, file.creator_id)
            if file.source_id is not None and file.source_id not in t.sources:
                raise missing_reference("source", file.source_id)
            if file.replaced_by_file_id is not None and file.replaced_by_file_id not in t.files:
                raise missing_reference("file", file.replaced_by_file_id)
            t.files[file.id] = copied(file)

    async def get_file(self, file_id: str) -> SourceFile | None:
        return copied((await self._session.tables()).files.get(file_id))

    async def save_file(self, file: SourceFile) -> None:
        async with self._session.atomic() as t:
            stored = t.files.get(file.id)
            if stored is None:
                raise NotFound(f"file {file.id!r} does not exist", code="file-not-found")
            if file.replaced_by_file_id is not None and file.replaced_by_file_id not in t.files:
                raise missing_reference("file", file.replaced_by_file_id)
            stored.status = file.status
            stored.failure_reason = file.failure_reason
            stored.is_active = file.is_active
            stored.replaced_by_file_id = file.replaced_by_file_id

    async def files_of(self, source_id: str, *, active_only: bool = False) -> list[SourceFile]:
        files = (await self._session.tables()).files.values()
        return [copied(f) for f in files if f.source_id == source_id and (f.is_active or not active_only)]


def _source(t: Tables, source_id: str) -> Source:
    if source_id not in t.sources:
        raise NotFound(f"source {source_id!r} does not exist", code="source-not-found")
    return t.sources[source_id]
