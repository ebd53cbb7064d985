"""ChangeChatbotOwnerRole: promote or demote an owning creator."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots._owners import parse_role, roster_dict
from application.chatbots.ports import ChatbotRepository
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.audit import AuditLog
from application.ports.uow import UnitOfWork
from domain.roles import ChatbotOwners


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeChatbotOwnerRoleCommand:
    principal: Principal
    chatbot_id: str
    creator_id: str
    role: str


class ChangeChatbotOwnerRole:
    """Changes an owner's role.

    - Only a PRIMARY_OWNER manages owners.
    - The last PRIMARY_OWNER is never demoted, even when two demotions race
      (``last-primary-owner``): someone must always be able to manage the chatbot.
    - Audited (``chatbot.owner-role-changed``) with the role before and after.
    """

    def __init__(
        self, authorizer: Authorizer, chatbots: ChatbotRepository, audit: AuditLog, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._audit = audit
        self._uow = uow

    async def __call__(self, command: ChangeChatbotOwnerRoleCommand) -> ChatbotOwners:
        await self._authorizer.require(
            command.principal, Action.CHATBOT_MANAGE_OWNERS, Resource.chatbot(command.chatbot_id)
        )
        role = parse_role(command.role)
        before = await self._chatbots.get(command.chatbot_id)
        roster = await self._chatbots.change_owner_role(command.chatbot_id, command.creator_id, role)
        previous = before.owners.role_of(command.creator_id) if before is not None else None
        await self._audit.record(
            command.principal,
            "chatbot.owner-role-changed",
            subject_type="chatbot",
            subject_id=command.chatbot_id,
            before={"creator_id": command.creator_id, "role": previous.value if previous else None},
            after={"creator_id": command.creator_id, "role": role.value, "owners": roster_dict(roster)},
        )
        await self._uow.commit()
        return roster
