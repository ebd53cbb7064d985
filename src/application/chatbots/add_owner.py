"""AddChatbotOwner: another creator joins a chatbot as PRIMARY_OWNER, CO_OWNER or CONTRIBUTOR."""

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
class AddChatbotOwnerCommand:
    principal: Principal
    chatbot_id: str
    creator_id: str
    role: str


class AddChatbotOwner:
    """Adds an owning creator.

    - Only a PRIMARY_OWNER manages owners.
    - A creator owns a chatbot once (Conflict ``already-owner``); the creator must exist
      (Conflict ``missing-reference``).
    - Ownership never decides revenue (sources do): this changes who may manage the chatbot.
    - Audited (``chatbot.owner-added``) with the roster before and after.
    """

    def __init__(
        self, authorizer: Authorizer, chatbots: ChatbotRepository, audit: AuditLog, uow: UnitOfWork
    ) -> None:
        self._authorizer = authorizer
        self._chatbots = chatbots
        self._audit = audit
        self._uow = uow

    async def __call__(self, command: AddChatbotOwnerCommand) -> ChatbotOwners:
        await self._authorizer.require(
            command.principal, Action.CHATBOT_MANAGE_OWNERS, Resource.chatbot(command.chatbot_id)
        )
        role = parse_role(command.role)
        roster = await self._chatbots.add_owner(command.chatbot_id, command.creator_id, role)
        await self._audit.record(
            command.principal,
            "chatbot.owner-added",
            subject_type="chatbot",
            subject_id=command.chatbot_id,
            before={"owners": {k: v for k, v in roster_dict(roster).items() if k != command.creator_id}},
            after={"owners": roster_dict(roster)},
        )
        await self._uow.commit()
        return roster
