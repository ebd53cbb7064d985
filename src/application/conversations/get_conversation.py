"""GetConversation: one conversation and a page of its messages."""

from __future__ import annotations

from dataclasses import dataclass

from application.conversations.chat_ports import ChatLog, StoredMessage
from application.conversations.ports import ConversationGuard, ConversationRepository
from application.errors import NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.conversations import Conversation

MAX_MESSAGES_PAGE = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class GetConversationQuery:
    principal: Principal
    conversation_id: str
    limit: int = 50
    after_message_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationView:
    conversation: Conversation
    messages: list[StoredMessage]
    has_more: bool


class GetConversation:
    """The caller's conversation with its messages, oldest first.

    - Only its owner sees it (others get 404, as for a missing one).
    - Expiry is applied on access: a conversation past ``expires_at`` is saved as EXPIRED
      before it is shown (guarded; a concurrent change wins and is shown instead).
    - Messages are paged (``limit`` 1..100) after ``after_message_id``.
    """

    def __init__(
        self,
        conversations: ConversationRepository,
        chat_log: ChatLog,
        authorizer: Authorizer,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        self._conversations = conversations
        self._log = chat_log
        self._authorizer = authorizer
        self._clock = clock
        self._uow = uow

    async def __call__(self, query: GetConversationQuery) -> ConversationView:
        resource = Resource.conversation(query.conversation_id)
        await self._authorizer.require(query.principal, Action.CONVERSATION_VIEW, resource)
        conversation = await self._conversations.get(query.conversation_id)
        if conversation is None:
            raise NotFound("conversation not found", code="conversation-not-found")
        guard = ConversationGuard.of(conversation)
        if conversation.expire_if_due(self._clock.now()):
            if await self._conversations.save(conversation, guard=guard):
                await self._uow.commit()
            else:
                reloaded = await self._conversations.get(query.conversation_id)
                conversation = reloaded or conversation
        limit = max(1, min(query.limit, MAX_MESSAGES_PAGE))
        messages = await self._log.messages_page(
            conversation.id, limit=limit + 1, after_id=query.after_message_id
        )
        return ConversationView(
            conversation=conversation, messages=messages[:limit], has_more=len(messages) > limit
        )
