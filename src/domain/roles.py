"""Role rosters: who may manage a chatbot or a creator profile.

A chatbot must always have at least one PRIMARY_OWNER and a creator profile at least one
OWNER, because those are the only roles that can add members back: losing the last one
would lock everybody out. Rosters are immutable; every change returns a new roster or raises
``LastKeeperRemoval`` (codes ``last-primary-owner`` / ``last-creator-owner``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import ClassVar, Generic, Self, TypeVar

from domain.errors import InvalidValue, LastKeeperRemoval, RuleViolation


class ChatbotOwnerRole(StrEnum):
    PRIMARY_OWNER = "PRIMARY_OWNER"  # delete the chatbot, manage owners, change revenue splits
    CO_OWNER = "CO_OWNER"  # edit prompt, files and settings; see analytics
    CONTRIBUTOR = "CONTRIBUTOR"  # add files and content


class CreatorRole(StrEnum):
    OWNER = "OWNER"  # delete the creator, manage members
    ADMIN = "ADMIN"  # edit the profile, manage chatbots and files
    MEMBER = "MEMBER"  # view and contribute


R = TypeVar("R", bound=StrEnum)


class Roster(Generic[R]):
    """An immutable ``member_id -> role`` map that always holds at least one keeper."""

    __slots__ = ("_members",)
    keeper: ClassVar[StrEnum]
    role_type: ClassVar[type[StrEnum]]
    last_code: ClassVar[str]
    noun: ClassVar[str]

    def __init__(self, members: Mapping[str, R]) -> None:
        for member_id, role in members.items():
            if not isinstance(member_id, str) or not member_id.strip():
                raise InvalidValue("member ids must be non-empty strings", code="invalid-id")
            if not isinstance(role, self.role_type):
                raise InvalidValue(f"{role!r} is not a {self.role_type.__name__}", code="invalid-role")
        if self.keeper not in members.values():
            raise RuleViolation(f"a {self.noun} needs at least one {self.keeper}", code=self.last_code)
        self._members: dict[str, R] = dict(sorted(members.items()))

    @classmethod
    def founded_by(cls, member_id: str) -> Self:
        return cls({member_id: cls.keeper})  # type: ignore[dict-item]

    def role_of(self, member_id: str) -> R | None:
        return self._members.get(member_id)

    def has_role(self, member_id: str, *roles: R) -> bool:
        return self._members.get(member_id) in roles

    @property
    def keepers(self) -> tuple[str, ...]:
        return tuple(m for m, role in self._members.items() if role == self.keeper)

    def as_dict(self) -> dict[str, R]:
        return dict(self._members)

    def with_member(self, member_id: str, role: R) -> Self:
        """Add a member; adding someone already present is a ``RuleViolation``."""
        if member_id in self._members:
            raise RuleViolation(f"{member_id!r} is already a member", code="already-member")
        return type(self)({**self._members, member_id: role})

    def without(self, member_id: str) -> Self:
        """Remove a member; never the last keeper."""
        self._require(member_id)
        self._guard_last_keeper(member_id, None)
        return type(self)({m: r for m, r in self._members.items() if m != member_id})

    def with_role(self, member_id: str, role: R) -> Self:
        """Change a member's role; never demote the last keeper."""
        self._require(member_id)
        self._guard_last_keeper(member_id, role)
        return type(self)({**self._members, member_id: role})

    def _require(self, member_id: str) -> None:
        if member_id not in self._members:
            raise InvalidValue(f"{member_id!r} is not a member", code="unknown-member")

    def _guard_last_keeper(self, member_id: str, new_role: R | None) -> None:
        if self.keepers == (member_id,) and new_role != self.keeper:
            raise LastKeeperRemoval(
                f"{member_id!r} is the last {self.keeper} of this {self.noun}", code=self.last_code
            )

    def __contains__(self, member_id: object) -> bool:
        return member_id in self._members

    def __iter__(self) -> Iterator[tuple[str, R]]:
        return iter(self._members.items())

    def __len__(self) -> int:
        return len(self._members)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Roster) and type(other) is type(self) and other._members == self._members

    def __hash__(self) -> int:
        return hash(tuple(self._members.items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._members!r})"


class ChatbotOwners(Roster[ChatbotOwnerRole]):
    """The creators who own a chatbot (ownership does not decide revenue: sources do)."""

    __slots__ = ()
    keeper = ChatbotOwnerRole.PRIMARY_OWNER
    role_type = ChatbotOwnerRole
    last_code = "last-primary-owner"
    noun = "chatbot"


class CreatorMembers(Roster[CreatorRole]):
    """The users who manage a creator profile (an author and their assistants)."""

    __slots__ = ()
    keeper = CreatorRole.OWNER
    role_type = CreatorRole
    last_code = "last-creator-owner"
    noun = "creator"
