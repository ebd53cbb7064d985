"""StartCheckout: a signed-in buyer starts paying for a conversation with a chatbot."""

from __future__ import annotations

from dataclasses import dataclass

from application.chatbots.ports import ChatbotRepository
from application.errors import Conflict, NotFound
from application.identity.permissions import Action
from application.identity.ports import Authorizer
from application.identity.principal import Principal, Resource
from application.money.ports import (
    PENDING,
    MoneySettings,
    PaymentGateways,
    PurchaseRecord,
    PurchaseRepository,
)
from application.payments.ports import CheckoutRequest
from application.ports.uow import UnitOfWork
from domain.ids import new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class StartCheckoutCommand:
    principal: Principal
    chatbot_id: str
    success_url: str | None = None
    cancel_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StartedCheckout:
    purchase_id: str
    checkout_url: str
    amount: int
    currency: str
    processor: str


class StartCheckout:
    """Creates a PENDING purchase at the chatbot's current price and a checkout for it.

    - Only signed-in users buy (``purchase.create``); the chatbot must be live and not free.
    - The purchase is committed BEFORE the processor is asked for a checkout, so a payment can
      never reference a purchase we do not have; the checkout call is idempotent by purchase.
    - Until the processor reports the payment, the purchase's payment id is ``pending:<id>``.
    """

    def __init__(
        self,
        chatbots: ChatbotRepository,
        purchases: PurchaseRepository,
        gateways: PaymentGateways,
        authorizer: Authorizer,
        uow: UnitOfWork,
        settings: MoneySettings,
    ) -> None:
        self._chatbots = chatbots
        self._purchases = purchases
        self._gateways = gateways
        self._authorizer = authorizer
        self._uow = uow
        self._base = settings.public_base_url.rstrip("/")

    async def __call__(self, command: StartCheckoutCommand) -> StartedCheckout:
        principal = command.principal
        await self._authorizer.require(
            principal, Action.PURCHASE_CREATE, Resource.chatbot(command.chatbot_id)
        )
        chatbot = await self._chatbots.get(command.chatbot_id)
        if chatbot is None:
            raise NotFound("chatbot not found", code="chatbot-not-found")
        version = (
            await self._chatbots.get_version(chatbot.current_version_id)
            if chatbot.current_version_id
            else None
        )
        if version is None or not chatbot.is_available:
            raise Conflict("this chatbot is not taking conversations", code="chatbot-unavailable")
        price = version.config.price
        if price.is_zero():
            raise Conflict("this chatbot is free: open a conversation directly", code="chatbot-is-free")
        gateway = self._gateways.checkout()
        purchase_id = new_id()
        purchase = PurchaseRecord(
            id=purchase_id,
            purchaser_user_id=principal.user_id or "",
            chatbot_id=chatbot.id,
            processor=gateway.processor.value,
            external_payment_id=f"pending:{purchase_id}",
            external_checkout_id=None,
            currency=price.currency.code,
            amount=price.minor,
            fee=0,
            net=0,
            refunded=0,
            status=PENDING,
        )
        await self._purchases.add(purchase)
        await self._uow.commit()
        checkout = await gateway.create_checkout(
            CheckoutRequest(
                purchase_id=purchase_id,
                amount_minor=price.minor,
                currency=price.currency.code,
                description=f"A conversation with {version.config.title}",
                success_url=command.success_url or f"{self._base}/purchases/{purchase_id}",
                cancel_url=command.cancel_url or f"{self._base}/chatbots/{chatbot.id}",
                idempotency_key=f"checkout:{purchase_id}",
            )
        )
        purchase.external_checkout_id = checkout.external_checkout_id
        await self._purchases.save(purchase)
        await self._uow.commit()
        return StartedCheckout(
            purchase_id=purchase_id,
            checkout_url=checkout.url,
            amount=price.minor,
            currency=price.currency.code,
            processor=gateway.processor.value,
        )
