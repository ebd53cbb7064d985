"""ExpireConversations: the periodic sweep that ends conversations whose time is up."""

from __future__ import annotations

from dataclasses import dataclass

from application.conversations.ports import ConversationGuard, ConversationRepository
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpireConversationsCommand:
    batch_size: int = 200
    max_batches: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpiredConversations:
    expired: int


class ExpireConversations:
    """Moves every ACTIVE conversation past its ``expires_at`` to EXPIRED.

    - ``ended_at`` is ``expires_at`` itself, not the sweep's time, so the refund window (and
      attribution) never depends on when the job ran.
    - Each save is guarded: a conversation that changed meanwhile (a last message completed it,
      the user archived it) is left as the other writer made it.
    - Batches commit one by one, so a long backlog makes progress even if a later batch fails;
      running it twice changes nothing (idempotent, as jobs must be). Sending a message to an
      expired conversation applies the same rule on access.
    """

    def __init__(self, conversations: ConversationRepository, clock: Clock, uow: UnitOfWork) -> None:
        self._conversations = conversations
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: ExpireConversationsCommand) -> ExpiredConversations:
        expired = 0
        for _ in range(command.max_batches):
            now = self._clock.now()
            due = await self._conversations.list_due_to_expire(now, limit=command.batch_size)
            if not due:
                break
            for conversation in due:
                guard = ConversationGuard.of(conversation)
                if conversation.expire_if_due(now) and await self._conversations.save(
                    conversation, guard=guard
                ):
                    expired += 1
            await self._uow.commit()
            if len(due) < command.batch_size:
                break
        return ExpiredConversations(expired=expired)
