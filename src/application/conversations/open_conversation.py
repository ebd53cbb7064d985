"""OpenConversation: start a conversation with a chatbot's current version."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.ports import ChatbotRepository
from application.conversations.chat_ports import PurchaseLookup
from application.conversations.ports import ConversationRepository
from application.errors import Conflict, NotFound, PermissionDenied
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, PrincipalKind, Resource
from application.ports.clock import Clock
from application.ports.uow import UnitOfWork
from domain.conversations import Conversation

# the money area's PAID statuses a buyer can still chat on (ports there: COMPLETED, PARTIALLY_REFUNDED)
_USABLE_PURCHASE = frozenset({"COMPLETED", "PARTIALLY_REFUNDED"})


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenConversationCommand:
    principal: Principal
    chatbot_id: str
    purchase_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedConversation:
    conversation: Conversation
    created: bool


class OpenConversation:
    """Opens a conversation pinned to the chatbot's current version.

    - The caller must be allowed to start one (``conversation.start``; a private chatbot is
      invisible to strangers) and the chatbot must be active with a live version.
    - From a purchase: the purchase must be paid and still usable (COMPLETED, or
      PARTIALLY_REFUNDED: a buyer keeps what they paid for after a partial refund, and a refund
      webhook can even arrive before the payment's), for this chatbot and bought by the caller.
      PENDING, FAILED, REFUNDED and DISPUTED purchases open nothing (409 ``purchase-not-completed``).
      Opening again from the same purchase returns the same conversation (webhooks repeat).
    - Without a purchase: only when the version is free (price 0) or allows anonymous use; an
      anonymous visitor additionally needs ``allow_anonymous`` (else 403 ``anonymous-not-allowed``).
      Otherwise 403 ``purchase-required``.
    - Allowance, expiry (``started_at + version.expiry``) and token caps come from the version.
    - API keys act for creators, not audiences: they cannot open conversations.
    """

    def __init__(
        self,
        chatbots: ChatbotRepository,
        conversations: ConversationRepository,
        purchases: PurchaseLookup,
        authorizer: Authorizer,
        clock: Clock,
        uow: UnitOfWork,
    ) -> None:
        self._chatbots = chatbots
        self._conversations = conversations
        self._purchases = purchases
        self._authorizer = authorizer
        self._clock = clock
        self._uow = uow

    async def __call__(self, command: OpenConversationCommand) -> OpenedConversation:
        principal = command.principal
        await self._authorizer.require(
            principal, Action.CONVERSATION_START, Resource.chatbot(command.chatbot_id)
        )
        if principal.kind is PrincipalKind.API_KEY:
            raise PermissionDenied("API keys cannot open conversations", code="audience-only")
        chatbot = await self._chatbots.get(command.chatbot_id)
        if chatbot is None:
            raise NotFound("chatbot not found", code="chatbot-not-found")
        if not chatbot.is_available or chatbot.current_version_id is None:
            raise Conflict("this chatbot is not taking conversations", code="chatbot-unavailable")
        version = await self._chatbots.get_version(chatbot.current_version_id)
        if version is None:
            raise Conflict("this chatbot has no live version", code="chatbot-unavailable")
        config = version.config
        if command.purchase_id is not None:
            existing = await self._checked_purchase(command.purchase_id, principal, chatbot.id)
            if existing is not None:
                found = await self._conversations.get(existing)
                if found is not None:
                    return OpenedConversation(conversation=found, created=False)
        elif principal.is_anonymous and not config.allow_anonymous:
            raise PermissionDenied("sign in to talk to this chatbot", code="anonymous-not-allowed")
        elif not (config.price.is_zero() or config.allow_anonymous):
            raise PermissionDenied("buy a conversation to talk to this chatbot", code="purchase-required")
        conversation = Conversation.start(
            chatbot_id=chatbot.id,
            version_id=version.id,
            allowance=config.message_allowance,
            started_at=self._clock.now(),
            lifetime=config.expiry,
            user_id=principal.user_id,
            anonymous_id=None if principal.user_id else principal.anonymous_id,
            purchase_id=command.purchase_id,
        )
        await self._conversations.add(conversation)
        await self._uow.commit()
        return OpenedConversation(conversation=conversation, created=True)

    async def _checked_purchase(self, purchase_id: str, principal: Principal, chatbot_id: str) -> str | None:
        purchase = await self._purchases.get(purchase_id)
        if purchase is None or purchase.purchaser_user_id != principal.user_id:
            raise NotFound("purchase not found", code="purchase-not-found")
        if purchase.chatbot_id != chatbot_id:
            raise Conflict("this purchase is for another chatbot", code="purchase-chatbot-mismatch")
        if purchase.status not in _USABLE_PURCHASE:
            raise Conflict(f"this purchase is {purchase.status}", code="purchase-not-completed")
        return await self._purchases.conversation_of(purchase_id)
