"""ArchiveConversation: the user files a conversation away."""

from __future__ import annotations

from dataclasses import dataclass

from application.conversations.ports import ConversationGuard, ConversationRepository
from application.errors import Conflict, NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.conversations import Conversation
from domain.errors import IllegalTransition


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveConversationCommand:
    principal: Principal
    conversation_id: str


class ArchiveConversation:
    """Archives the caller's conversation.

    - Only its owner may (``conversation.archive``); others get 404.
    - Archiving an ACTIVE conversation ends it: the rest of the allowance is given up and the
      refund window starts (the domain's rule). Attribution still happens for archived ones.
    - Archiving twice is 409 ``conversation-archived``; a lost race with a concurrent message
      or sweep is 409 ``conversation-changed`` (reload and try again).
    """

    def __init__(
        self, conversations: ConversationRepository, authorizer: Authorizer, clock: Clock, uow: UnitOfWork
    ) -> None:
        self._conversations = conversations
        self._authorizer = authorizer
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: ArchiveConversationCommand) -> Conversation:
        resource = Resource.conversation(command.conversation_id)
        await self._authorizer.require(command.principal, Action.CONVERSATION_ARCHIVE, resource)
        conversation = await self._conversations.get(command.conversation_id)
        if conversation is None:
            raise NotFound("conversation not found", code="conversation-not-found")
        guard = ConversationGuard.of(conversation)
        now = self._clock.now()
        conversation.expire_if_due(now)
        try:
            conversation.archive(now)
        except IllegalTransition as exc:
            raise Conflict("this conversation is archived already", code="conversation-archived") from exc
        if not await self._conversations.save(conversation, guard=guard):
            raise Conflict("the conversation changed meanwhile; reload it", code="conversation-changed")
        await self._uow.commit()
        return conversation
