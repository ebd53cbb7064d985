"""ManageCreatorMember: add a user to a creator, change their role, or remove them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from application.catalogue.ports import CreatorRepository, UserRepository
from application.errors import Conflict, InvalidInput, NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.audit import AuditLog
from application.ports.uow import UnitOfWork
from domain.roles import CreatorMembers, CreatorRole


class MemberChange(StrEnum):
    ADD = "add"
    CHANGE_ROLE = "change-role"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True, kw_only=True)
class ManageCreatorMemberCommand:
    principal: Principal
    creator_id: str
    user_id: str
    change: MemberChange
    role: CreatorRole | None = None  # required for ADD and CHANGE_ROLE


class ManageCreatorMember:
    """Changes who acts for a creator (one use case for the three edits of one roster, since they
    share every rule).

    - Only the creator's OWNER may (``creator.manage-members``); admins and members are refused.
    - The added user must exist (404 ``user-not-found``); adding a member twice is Conflict
      ``already-member``; changing or removing a non-member is 404 ``member-not-found``.
    - The last OWNER can be neither demoted nor removed (``last-creator-owner``), even when two
      changes race.
    - Every change is audited (``creator.member-added`` / ``-role-changed`` / ``-removed``) with
      the role before and after.
    """

    def __init__(
        self,
        authorizer: Authorizer,
        creators: CreatorRepository,
        users: UserRepository,
        audit: AuditLog,
        uow: UnitOfWork,
    ) -> None:
        self._authorizer = authorizer
        self._creators = creators
        self._users = users
        self._audit = audit
        self._uow = uow

    async def __call__(self, command: ManageCreatorMemberCommand) -> CreatorMembers:
        await self._authorizer.require(
            command.principal, Action.CREATOR_MANAGE_MEMBERS, Resource.creator(command.creator_id)
        )
        if command.change is not MemberChange.REMOVE and command.role is None:
            raise InvalidInput("a role is required", errors={"role": "required"})
        creator = await self._creators.get(command.creator_id)
        if creator is None:
            raise NotFound("creator not found", code="not-found")
        before = creator.members.role_of(command.user_id)
        if command.change is MemberChange.ADD:
            if before is not None:
                raise Conflict("that user is already a member of this creator", code="already-member")
            if await self._users.get(command.user_id) is None:
                raise NotFound("no such user", code="user-not-found")
            assert command.role is not None
            roster = await self._creators.add_member(command.creator_id, command.user_id, command.role)
        elif before is None:
            raise NotFound("that user is not a member of this creator", code="member-not-found")
        elif command.change is MemberChange.CHANGE_ROLE:
            assert command.role is not None
            roster = await self._creators.change_member_role(
                command.creator_id, command.user_id, command.role
            )
        else:
            roster = await self._creators.remove_member(command.creator_id, command.user_id)
        after = roster.role_of(command.user_id)
        await self._audit.record(
            command.principal,
            {
                MemberChange.ADD: "creator.member-added",
                MemberChange.CHANGE_ROLE: "creator.member-role-changed",
                MemberChange.REMOVE: "creator.member-removed",
            }[command.change],
            subject_type="creator",
            subject_id=command.creator_id,
            before={"user_id": command.user_id, "role": before.value if before else None},
            after={"user_id": command.user_id, "role": after.value if after else None},
        )
        await self._uow.commit()
        return roster
