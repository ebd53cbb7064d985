"""Repository ports of the catalogue: users, creators (and their members), sources (and their
revenue shares and files).

Every repository works inside the request's unit of work: writes are sent at once (so a broken
constraint surfaces as ``Conflict`` from the call that broke it, with nothing of that call
left behind) but only ``UnitOfWork.commit()`` makes them durable. Reads return fresh domain
objects; changing one changes nothing until it is passed back to a write method.

``Conflict`` codes raised here (stable): ``user-external-id-taken``, ``creator-slug-taken``,
``already-member``, ``share-change-conflict``, ``shares-changed-later``, ``missing-reference``
(a user or creator id that does not exist). Missing aggregates on a write raise ``NotFound``.
Roster rules (the last OWNER of a creator) raise the domain's ``LastKeeperRemoval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.catalogue import Creator, Source, SourceFile, User
from domain.roles import CreatorMembers, CreatorRole
from domain.shares import ShareSet


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...

    async def get_by_external_id(self, external_id: str) -> User | None:
        """The user the identity provider knows as ``external_id``."""
        ...

    async def add(self, user: User) -> None:
        """Conflict ``user-external-id-taken`` if that external id already has a user."""
        ...

    async def upsert(self, user: User) -> User:
        """Insert ``user``, or update the profile (email, names, phone) of the user who has
        the same ``external_id``, keeping that user's id. Returns what is stored. Safe when two
        first sign-ins of the same person race: both end up with the same user."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatorMembership:
    """A creator the user belongs to, and the user's role there."""

    creator: Creator
    role: CreatorRole


class CreatorRepository(Protocol):
    async def add(self, creator: Creator) -> None:
        """Stores the profile and its members. Conflict ``creator-slug-taken``."""
        ...

    async def get(self, creator_id: str) -> Creator | None: ...

    async def get_by_slug(self, slug: str) -> Creator | None: ...

    async def list_for_user(self, user_id: str) -> list[CreatorMembership]:
        """The creators ``user_id`` is a member of (only those), ordered by slug."""
        ...

    async def save_profile(self, creator: Creator) -> None:
        """Writes name, slug, bio, avatar and links (members change only through the member
        methods below). NotFound if absent; Conflict ``creator-slug-taken``."""
        ...

    async def add_member(self, creator_id: str, user_id: str, role: CreatorRole) -> CreatorMembers:
        """Conflict ``already-member`` / ``missing-reference``. Returns the new roster."""
        ...

    async def change_member_role(self, creator_id: str, user_id: str, role: CreatorRole) -> CreatorMembers:
        """Never demotes the last OWNER, even when two changes race (``LastKeeperRemoval``)."""
        ...

    async def remove_member(self, creator_id: str, user_id: str) -> CreatorMembers:
        """Never removes the last OWNER, even when two removals race (``LastKeeperRemoval``)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareSetVersion:
    """The revenue shares of a source in force from ``effective_from`` until the next
    version's ``effective_from``."""

    source_id: str
    shares: ShareSet
    effective_from: datetime
    changed_by: str | None


class SourceRepository(Protocol):
    async def add(self, source: Source, *, effective_from: datetime) -> None:
        """Stores the source, its current shares and the first share-history entry.
        Conflict ``missing-reference`` if a creator or the creating user does not exist."""
        ...

    async def get(self, source_id: str) -> Source | None:
        """The source with its current shares."""
        ...

    async def list_by_creator(self, creator_id: str) -> list[Source]:
        """The sources ``creator_id`` has a share in (only those), oldest first."""
        ...

    async def save(self, source: Source) -> None:
        """Writes the descriptive fields (title, type, author...). Shares change only through
        ``change_shares``, so a stale copy can never silently rewrite a split."""
        ...

    async def change_shares(
        self, source_id: str, shares: ShareSet, *, effective_from: datetime, changed_by: str
    ) -> None:
        """Make ``shares`` the current split from ``effective_from`` on and record it in the
        history. Earlier history is never rewritten, so revenue attributed under an older split
        keeps it. Conflict ``shares-changed-later`` if a later change already exists,
        ``share-change-conflict`` if one exists at the same instant."""
        ...

    async def share_history(self, source_id: str) -> list[ShareSetVersion]:
        """Every split the source has had, oldest first."""
        ...

    async def shares_at(self, source_id: str, moment: datetime) -> ShareSet | None:
        """The split in force at ``moment`` (None before the source's first split)."""
        ...

    async def add_file(self, file: SourceFile) -> None: ...

    async def get_file(self, file_id: str) -> SourceFile | None: ...

    async def save_file(self, file: SourceFile) -> None:
        """Writes status, failure reason, activity and replacement. NotFound if absent."""
        ...

    async def files_of(self, source_id: str, *, active_only: bool = False) -> list[SourceFile]:
        """The files of one source, oldest first."""
        ...
