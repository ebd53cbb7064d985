"""RemoveChatbotOwner: an owning creator leaves a chatbot."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots._owners import roster_dict
from application.chatbots.ports import ChatbotRepository
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.audit import AuditLog
from application.ports.uow import UnitOfWork
from domain.roles import ChatbotOwners


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveChatbotOwnerCommand:
    principal: Principal
    chatbot_id: str
    creator_id: str


class RemoveChatbotOwner:
    """Removes an owner.

    - Only a PRIMARY_OWNER manages owners.
    - The last PRIMARY_OWNER is never removed, even when two removals race
      (``last-primary-owner``).
    - Audited (``chatbot.owner-removed``) with the roster after.
    """

    def __init__(
        self, authorizer: Authorizer, chatbots: ChatbotRepository, audit: AuditLog, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._audit = audit
        self._uow = uow

    async def __call__(self, command: RemoveChatbotOwnerCommand) -> ChatbotOwners:
        await self._authorizer.require(
            command.principal, Action.CHATBOT_MANAGE_OWNERS, Resource.chatbot(command.chatbot_id)
        )
        before = await self._chatbots.get(command.chatbot_id)
        roster = await self._chatbots.remove_owner(command.chatbot_id, command.creator_id)
        previous = before.owners.role_of(command.creator_id) if before is not None else None
        await self._audit.record(
            command.principal,
            "chatbot.owner-removed",
            subject_type="chatbot",
            subject_id=command.chatbot_id,
            before={"creator_id": command.creator_id, "role": previous.value if previous else None},
            after={"owners": roster_dict(roster)},
        )
        await self._uow.commit()
        return roster
